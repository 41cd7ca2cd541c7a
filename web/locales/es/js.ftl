## Palabras de los scripts (cada página las recibe como datos; web/static/*.js las leen con t()).

js-outbox-waiting = { $count ->
    [one] { $count } esperando para enviar
   *[other] { $count } esperando para enviar
}
js-outbox-sign-in-to-send = — entra para enviar
js-outbox-sent = Enviado a la caja: { $titles }.
js-show-my-work = Ver mis trabajos
js-device-waiting = { $count ->
    [one] { $count } trabajo hecho sin conexión espera en este dispositivo. Se envía cuando la persona que lo hizo entra aquí con la caja al alcance.
   *[other] { $count } trabajos hechos sin conexión esperan en este dispositivo. Se envían cuando las personas que los hicieron entran aquí con la caja al alcance.
}
js-waiting-since = esperando desde { $when }
js-waiting-since-late = esperando desde { $when } — conéctate a la red de la escuela
js-untitled = Sin título
js-box-did-not-take = La caja no lo aceptó: { $error }
js-box-refused = La caja lo rechazó (error { $status }).
js-remove-from-device = Quitarlo de este dispositivo
js-comment-on = Comentario sobre «{ $title }»
js-changes-to = Cambios en «{ $title }»
js-new-version-of = Nueva versión de «{ $title }»
js-not-kept = No se puede llegar a la caja, y este dispositivo tampoco pudo guardarlo. Copia tu texto en un lugar seguro.
js-kept = No se puede llegar a la caja. Está guardado en este dispositivo y se enviará solo cuando la caja esté al alcance.
js-did-not-work = Eso no funcionó (error { $status }). Inténtalo otra vez.
js-signout-waiting = { $count ->
    [one] { $count } de tus trabajos todavía no ha llegado a la caja. Se queda en este dispositivo y se envía cuando vuelvas a entrar aquí con la caja al alcance.
   *[other] { $count } de tus trabajos todavía no han llegado a la caja. Se quedan en este dispositivo y se envían cuando vuelvas a entrar aquí con la caja al alcance.
}
js-signout-anyway = Cerrar sesión de todos modos
js-record-again = Grabar otra vez
js-recording-ready = Grabación lista ({ $size }). Se envía con tu comentario.
js-stop-recording = Parar la grabación
js-recording = Grabando…
js-no-microphone = El micrófono no está disponible aquí.
js-recording-not-sent = No se pudo enviar la grabación. Inténtalo otra vez.
js-sending-file = Enviando { $name }
js-saved-on-device = No se puede llegar a la caja, así que tu trabajo está guardado en este dispositivo. Se enviará solo cuando la caja esté al alcance.
js-unreachable = No se pudo llegar a la caja. Revisa el wifi e inténtalo otra vez.
js-cancel = Cancelar
js-saved = ¡Guardado!
js-sending-percent = Enviando… { $percent } %
js-cancelled = Cancelado. No se guardó nada.
js-files = { $count ->
    [one] { $count } archivo
   *[other] { $count } archivos
}
js-size-bytes = { $count ->
    [one] { $count } byte
   *[other] { $count } bytes
}
js-size-kb = { $size } KB
js-size-mb = { $size } MB
js-size-gb = { $size } GB
js-offline-title = Sin conexión — copia guardada
js-offline-from = del { $when }. No se puede llegar a la caja: el trabajo nuevo que hagas espera en este dispositivo y se envía cuando se pueda.
js-signed-out-title = Sesión cerrada en este dispositivo.
js-signed-out = Ahora no se puede llegar a la caja; tu sesión en ella termina en cuanto se pueda. El trabajo que espera para enviarse se queda aquí hasta que vuelvas a entrar.
