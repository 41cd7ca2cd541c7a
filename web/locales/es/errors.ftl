error-go-start = Ir a la página de inicio
error-heading-not-found = No encontrado
error-heading-on-its-way = Todavía no está aquí
error-heading-wait = Espera un momento
error-heading-not-allowed = No permitido
error-heading-internal = Algo salió mal
error-heading-did-not-work = Eso no funcionó
error-unauthenticated = Primero inicia sesión.
error-bad-credentials = Ese usuario y esa contraseña (o esos dibujos) no coinciden. Revísalos y vuelve a intentarlo.
error-throttled = { $seconds ->
    [one] Demasiados intentos. Espera { $seconds } segundo y vuelve a intentarlo.
   *[other] Demasiados intentos. Espera { $seconds } segundos y vuelve a intentarlo.
}
error-not-found = Esa página o ese elemento no existe, o no tienes acceso.
error-on-its-way = Este archivo viene de otra caja y todavía no ha llegado. Vuelve a intentarlo cuando las cajas se hayan sincronizado.
error-cross-origin = Esta solicitud vino de otro sitio web y se rechazó. Abre folio directamente y vuelve a intentarlo.
error-tus-version = Esta caja habla la versión 1.0.0 del protocolo de subidas reanudables (tus); envía Tus-Resumable: 1.0.0.
error-wrong-setup-code = El código de configuración no es correcto. Está en la pantalla de la caja o en el archivo setup-code de la carpeta de datos de folio.
error-disk-full = El disco de la caja está lleno, así que el archivo no se guardó. Avisa al equipo de informática de la escuela; no se perdió nada más.
error-internal = Algo salió mal en la caja. Vuelve a intentarlo; si sigue pasando, avisa al equipo de informática de la escuela.
error-form-out-of-date = Este formulario está desactualizado. Vuelve atrás, recarga la página e inténtalo de nuevo.
notice-class-created = La clase está lista. Añade estudiantes abajo.
notice-student-added = Estudiante añadido.
notice-member-added = Añadido a la clase.
notice-member-removed = Quitado de la clase.
notice-roster-imported = Lista importada.
notice-person-added = Persona añadida.
notice-password-set = Contraseña cambiada. Se ha cerrado su sesión en todos los demás sitios.
notice-disabled = Cuenta desactivada y sesión cerrada en todas partes.
notice-enabled = Cuenta activada.
notice-oneroster-imported = Archivos OneRoster importados.
notice-settings-saved = Ajustes de uso compartido guardados.
notice-family-linked = Cuenta familiar vinculada.
notice-family-unlinked = Cuenta familiar desvinculada.
notice-family-joined = ¡Bienvenidos! Ya están vinculados al folio de su hijo o hija.
notice-erased = La persona y sus trabajos se han borrado.
notice-search-language-set = Idioma de búsqueda guardado. La búsqueda se está actualizando; en una escuela grande tarda un momento.
notice-school-language-set = El idioma de la escuela está guardado.
