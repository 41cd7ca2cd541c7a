# Informes: el de la clase, el de un estudiante y sus gráficos.
date-short = { $day } de { $month }
chart-empty = Todavía no hay nada que mostrar.
chart-teacher = Docente
chart-self = Autoevaluación
chart-participation-title = Trabajos por estudiante
chart-participation-desc = Una barra por estudiante: cuántos trabajos publicó cada uno en las fechas elegidas. La tabla de abajo tiene los mismos números.
chart-levels-title = Estudiantes en cada nivel
chart-levels-desc = Una barra por habilidad, por partes: cuántos estudiantes tienen cada nivel en su última valoración docente. La tabla de abajo tiene los mismos números.
chart-weeks-title = Publicaciones por semana
chart-weeks-desc = Una barra por semana: cuántos trabajos se publicaron esa semana. La tabla de abajo tiene los mismos números.
chart-skill-title = { $skill }: nivel a lo largo del tiempo
chart-skill-desc = Cada punto es una valoración de una versión; la línea continua son las valoraciones docentes, la discontinua las del propio estudiante. La tabla de abajo tiene las mismas valoraciones.
title-class-report = Informe de la clase
title-student-report = Informe de progreso
class-report-link = Informe de la clase: quién publicó, comentarios y habilidades
report-heading = Informe: { $name }
report-student-heading = Progreso de { $name }
report-from = Desde
report-to = Hasta
report-quiet-days = Marcar a quienes no hayan publicado nada en este número de días
report-show = Mostrar
report-download-csv = Descargar como CSV (hoja de cálculo)
report-students = Estudiantes
report-student = Estudiante
report-pieces = Trabajos
report-versions = Versiones
report-last-posted = Última publicación
report-never = Nunca
report-feedback = Comentarios recibidos
report-activities = Actividades respondidas
report-answered-of = { $answered } de { $total }
report-quiet = Sin actividad
report-quiet-flag = Nada en { $days ->
    [one] { $days } día
   *[other] { $days } días
}
report-skill-latest = docente
report-skill-self = propia
report-no-students = Esta clase todavía no tiene estudiantes.
report-activities-heading = Actividades
report-answered-by = Respondida por
report-nobody = Nadie todavía
report-no-activities = Esta clase todavía no tiene actividades.
report-turnaround-heading = Tiempo de respuesta
report-turnaround-hours = La mitad de los trabajos recibió su primer comentario docente en menos de { $hours ->
    [one] { $hours } hora
   *[other] { $hours } horas
} desde su publicación.
report-turnaround-days = La mitad de los trabajos recibió su primer comentario docente en menos de { $days ->
    [one] { $days } día
   *[other] { $days } días
} desde su publicación.
report-turnaround-none = Todavía no hay comentarios docentes sobre trabajos publicados en estas fechas.
report-levels-heading = Niveles por habilidad
report-skill = Habilidad
report-skills-heading = Habilidades a lo largo del tiempo
report-no-ratings = Todavía no hay valoraciones.
report-when = Cuándo
report-level = Nivel
report-by = Quién
report-work = Trabajo
report-weeks-heading = Publicaciones por semana
report-week-of = Semana del
report-posts = Publicaciones
report-growth-heading = Trabajos con más versiones
report-no-work = Todavía no hay trabajos.
portfolio-report-link = Informe de progreso
home-my-progress = Mi progreso
