## Los mensajes de folio en español. Los ids no cambian; se traduce solo el texto.

language-name = Español
app-name = folio
number-decimal = ,
number-group = .
number-digits = 0123456789
size-bytes = { $count ->
    [one] { $size } byte
   *[other] { $size } bytes
}
size-kb = { $size } KB
size-mb = { $size } MB
size-gb = { $size } GB
size-tb = { $size } TB
date-long = { $weekday }, { $day } de { $month } de { $year }
weekday-0 = domingo
weekday-1 = lunes
weekday-2 = martes
weekday-3 = miércoles
weekday-4 = jueves
weekday-5 = viernes
weekday-6 = sábado
month-1 = enero
month-2 = febrero
month-3 = marzo
month-4 = abril
month-5 = mayo
month-6 = junio
month-7 = julio
month-8 = agosto
month-9 = septiembre
month-10 = octubre
month-11 = noviembre
month-12 = diciembre
nav-skip = Saltar al contenido
nav-main = Principal
nav-home = Inicio
nav-classes = Clases
nav-review = Revisar
nav-people = Personas
nav-skills = Habilidades
nav-backup = Copia de seguridad
nav-peers = Otras cajas
nav-sign-out = Cerrar sesión
search-all-label = Buscar en todo el trabajo que puedes ver
search-placeholder = Buscar
search-button = Buscar
language-menu-label = Idioma
foot-device = Configurar este dispositivo
foot-device-hint = para la dirección segura y para trabajar sin conexión
foot-offline-setup = Para usar folio sin conexión en este dispositivo, configúralo:
back = Volver
yes = Sí
no = No
save = Guardar
import = Importar
title-home = Inicio
title-classes = Clases
title-review = Revisar
title-search = Buscar
title-people = Personas
title-skills = Habilidades
title-backup = Copia de seguridad
title-peers = Otras cajas
title-setup = Configurar
title-signin = Entrar
title-signin-pictures = Entrar con dibujos
title-your-pictures = Tus dibujos
title-signin-card = Entrar con tu tarjeta
title-device = Configurar este dispositivo
title-restore = Restaurar una copia de seguridad
title-offline = Sin conexión
field-name = Nombre
field-username = Usuario
field-password = Contraseña
field-password-hint = Al menos 8 caracteres.
field-role = Función
field-title = Título
field-tags = Etiquetas (separadas por comas)
field-who-can-see = ¿Quién puede verlo?
role = { $role ->
    [admin] Administrador
    [teacher] Docente
    [student] Estudiante
    [leader] Equipo directivo
   *[family] Familia
}
visibility = { $visibility ->
    [private] Solo yo y mis docentes
    [class] Mi clase
   *[family] Mi clase y mi familia
}
kind = { $kind ->
    [image] Foto o dibujo
    [video] Vídeo
    [audio] Grabación
    [document] Documento
    [code] Código
    [text] Escrito
   *[other] Archivo
}
picture = { $stem ->
    [sun] Sol
    [moon] Luna
    [star] Estrella
    [heart] Corazón
    [tree] Árbol
    [fish] Pez
    [cat] Gato
    [apple] Manzana
    [car] Coche
    [house] Casa
    [flower] Flor
   *[ball] Pelota
}
review-new-feedback = { $count ->
    [one] { $count } comentario nuevo
   *[other] { $count } comentarios nuevos
}
