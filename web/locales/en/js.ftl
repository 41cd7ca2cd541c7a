## Words the scripts use (handed to each page as data; web/static/*.js read them with t()).

js-outbox-waiting = { $count ->
    [one] { $count } waiting to send
   *[other] { $count } waiting to send
}
js-outbox-sent = { $count ->
    [one] { $count } piece of work sent.
   *[other] { $count } pieces of work sent.
}
js-uploading = Uploading…
