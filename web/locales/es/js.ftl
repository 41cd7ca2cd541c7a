js-outbox-waiting = { $count ->
    [one] { $count } esperando para enviar
   *[other] { $count } esperando para enviar
}
js-outbox-sent = { $count ->
    [one] { $count } trabajo enviado.
   *[other] { $count } trabajos enviados.
}
js-uploading = Subiendo…
