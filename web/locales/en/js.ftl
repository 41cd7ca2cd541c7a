## Words the scripts use (handed to each page as data; web/static/*.js read them with t()).
## A message with $count is said once per plural form; the others keep { $name } for the
## script to fill in.

js-outbox-waiting = { $count ->
    [one] { $count } waiting to send
   *[other] { $count } waiting to send
}
js-outbox-sign-in-to-send = — sign in to send
js-outbox-sent = Sent to the box: { $titles }.
js-show-my-work = Show my work
js-device-waiting = { $count ->
    [one] { $count } piece of work made offline is waiting on this device. It is sent when the person who made it signs in here with the box in reach.
   *[other] { $count } pieces of work made offline are waiting on this device. They are sent when the people who made them sign in here with the box in reach.
}
js-waiting-since = waiting since { $when }
js-waiting-since-late = waiting since { $when } — connect to the school network
js-untitled = Untitled
js-box-did-not-take = The box did not take it: { $error }
js-box-refused = The box refused it (error { $status }).
js-remove-from-device = Remove it from this device
js-comment-on = Comment on “{ $title }”
js-changes-to = Changes to “{ $title }”
js-new-version-of = New version of “{ $title }”
js-not-kept = The box cannot be reached, and this device could not keep it either. Copy your text somewhere safe.
js-kept = The box cannot be reached. It is saved on this device and will be sent by itself when the box is in reach.
js-did-not-work = That did not work (error { $status }). Try again.
js-signout-waiting = { $count ->
    [one] { $count } piece of your work has not reached the box yet. It stays on this device and is sent when you sign in here again with the box in reach.
   *[other] { $count } pieces of your work have not reached the box yet. They stay on this device and are sent when you sign in here again with the box in reach.
}
js-signout-anyway = Sign out anyway
js-record-again = Record again
js-recording-ready = Recording ready ({ $size }). It is sent with your feedback.
js-stop-recording = Stop recording
js-recording = Recording…
js-no-microphone = The microphone is not available here.
js-recording-not-sent = The recording could not be sent. Try again.
js-sending-file = Sending { $name }
js-saved-on-device = The box cannot be reached, so your work is saved on this device. It will be sent by itself when the box is in reach.
js-unreachable = The box could not be reached. Check the Wi-Fi and try again.
js-cancel = Cancel
js-saved = Saved!
js-sending-percent = Sending… { $percent }%
js-cancelled = Cancelled. Nothing was saved.
js-files = { $count ->
    [one] { $count } file
   *[other] { $count } files
}
js-size-bytes = { $count ->
    [one] { $count } byte
   *[other] { $count } bytes
}
js-size-kb = { $size } KB
js-size-mb = { $size } MB
js-size-gb = { $size } GB
js-offline-title = Offline — showing saved copy
js-offline-from = from { $when }. The box cannot be reached: new work you make waits on this device and is sent when it can.
js-signed-out-title = Signed out on this device.
js-signed-out = The box cannot be reached right now; your session on it ends as soon as it can. Work waiting to be sent stays here until you sign in again.
