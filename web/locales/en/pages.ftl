## Sign in

signin-heading = Sign in
signin-with-pictures = Sign in with pictures
signin-card-hint = Have a sign-in card? Scan its QR code with the camera.
signin-with-password = Sign in with a password
signin-button = Sign in
signin-device-before = To work offline or use the camera on this device,
signin-device-link = set up this device
signin-device-after = first (once, usually done by school IT).
signin-class-heading = Which class are you in?
signin-class-remembered = Classes on this device
signin-class-or-type = Or type your class code:
signin-class-code = Class code
signin-class-next = Next
signin-class-password-instead = Sign in with a password instead
signin-students-heading = { $class }: tap your name
signin-students-label = Students
signin-students-none = No students are in this class yet. Ask your teacher.
signin-students-other-class = A different class
signin-pictures-heading = Hello, { $name }! Tap your 3 pictures
signin-pictures-chosen = { $count } of 3 pictures chosen
signin-pictures-not-me = That's not me
card-confirm-heading = Are you { $name }?
card-confirm-yes = Yes, that's me
card-confirm-no = No, go back

## Setting up

setup-heading = Set up folio
setup-lead-before = Welcome. Enter the setup code shown on the box's screen (it is also in the file
setup-lead-after = in folio's data folder), name your school, and create the administrator account.
setup-code = Setup code
setup-school-name = School name
setup-your-name = Your name
setup-button = Set up folio
setup-restore-question = Replacing a box, or starting again from a backup?
setup-restore-link = Restore a backup from a USB stick

## Home

home-hello = Hello, { $name }
home-admin-lead = You look after { $school } on this box.
home-review = Review new work
home-review-count = Review new work ({ $count })
home-your-classes = Your classes
home-no-classes = You have no classes yet.
home-create-one = Create one.
home-student-lead = This is your portfolio.
home-activities = Activities
home-make-new = Make something new
home-my-work = My work
home-family-none = No student is linked to your account yet. Ask the school.
home-child-work = { $name }'s work
home-family-new = New since your last visit
home-family-new-work = New
home-family-nothing-new = Nothing new yet.
home-family-earlier = Seen before
home-family-add-child = Add another child with a sheet's code
work-empty-home = Nothing here yet. Make something!
work-empty = Nothing to see here yet.
portfolio-heading = { $name }'s portfolio
outbox-heading = Waiting to send
outbox-hint = Made while the box could not be reached. It is kept on this device and sent by itself when the box is in reach.

## Work

work-form-add-files = Add photos, videos, recordings or files
work-form-camera = Use the camera
work-form-drag = Or drag files here.
work-form-reflection = What did you make? What did you learn?
work-form-save = Save my work
files-label = Files
files-on-its-way = On its way from another box
activity-due = Due { $date }
activity-due-short = due { $date }
activity-examples = Examples
activity-answered = Answered
activity-not-yet = Not yet
activity-answer = Answer this activity
review-heading = New work to review
review-waiting = { $count } waiting.
review-from = This one is from { $owners }.
review-from-in-class = This one is from { $owners } in { $class }.
review-feedback-label = Feedback (optional)
review-approve-next = Approve and next
review-feedback-next = Feedback only, next
review-skip = Skip for now
review-nothing = Nothing waiting. Well done!

## Classes

classes-none = No classes yet.
classes-code = code { $code }
classes-new = New class
classes-name = Class name
classes-create = Create class
cards-title = Sign-in cards · { $title }
cards-heading = Sign-in cards: { $title }
cards-instructions = Print this page and cut out the cards. Each card signs in one student: keep them safe. Printing again makes new cards and these stop working.
cards-scan-me = Scan me to sign in to folio

## Search

search-heading = Search
search-words = Words to find
search-filters-in-use = Filters in use
search-remove-filter = (remove this filter)
search-nothing = Nothing found. Try fewer or different words.
search-count = { $range } of { $count ->
    [one] { $total } piece of work.
   *[other] { $total } pieces of work.
}
search-facet-kind = Kind
search-facet-class = Class
search-facet-tag = Tag
search-facet-skill = Skill
search-a-class = a class
search-chip-class = Class: { $class }
search-chip-student = One student's work
search-chip-tag = Tag: { $tag }
search-chip-skill = Skill: { $skill }
search-chip-kind = Kind: { $kind }
search-chip-activity = One activity
search-chip-from = From { $day }
search-chip-to = Until { $day }
search-best-first = Best matches first
search-newest-first = Newest first
search-narrow = Narrow the results
search-more = More results
search-previous = Previous
search-next = Next

## People

people-caption = Everyone at { $school }
people-col-status = Status
people-disabled = Disabled
people-active = Active
people-add = Add a person
people-password-optional = Password (optional for young students)
people-add-button = Add person
people-oneroster = Import from the school's information system (OneRoster 1.1)
people-oneroster-hint = Parents, guardians and relatives become family accounts, linked to the children their row names (agentSourcedIds). They have no password: print one a QR card from their page, or the class teacher prints family sheets. Rows marked tobedeleted disable the person or remove the class place; importing the same files again changes nothing.
import-fix-lines = Nothing was imported. Fix these lines and try again:
import-file-line = { $file } line { $line }:
import-refused = { $count ->
    [one] Nothing was imported: { $count } line needs fixing. It is listed under the import form below.
   *[other] Nothing was imported: { $count } lines need fixing. They are listed under the import form below.
}
people-school-language = The school's language
people-school-language-label = Pages are shown in
people-school-language-none = What each browser asks for (English otherwise)
people-school-language-hint = For people and devices that have not chosen a language themselves.
people-search-language = Search language
people-search-language-label = Search understands word endings in
people-search-language-hint = With Spanish, "canciones" also finds "canción". Accents never matter.
person-username = username
person-disabled = disabled
person-pictures-now = { $name }'s pictures are now, in this order:
person-pictures-show = Show them to { $name }; folio will not show them again.
person-signing-in = Signing in
person-has-pictures = Has a picture sequence.
person-has-card = Has a QR card.
person-ask-teacher = To change how you sign in, ask your teacher.
person-pictures = Pictures
person-no-pictures = No pictures yet.
person-current-password = Your current password
person-new-pictures = Choose new pictures
person-secret-hint-self = You are signed out everywhere else, and the QR card stops working.
person-secret-hint-other = { $name } is signed out everywhere, and the QR card stops working.
person-card = Sign-in card
person-print-card = Print a new QR card
person-card-hint-self = The old card stops working, and you are signed out everywhere else.
person-card-hint-other = The old card stops working, and { $name } is signed out everywhere.
person-new-password = New password
person-set-password = Set password
person-family-link = Family link
person-family = Family
person-unlink = Unlink
person-link-student = Link to the student with username
person-link = Link
person-account = Account
person-enable = Enable account
person-disable = Disable account
person-disable-hint = Signs them out everywhere at once.
person-erase = Erase
person-erase-lead = For a privacy request: removes { $name }'s account, work, files, comments and class places from this box and, through sync, from every box. This cannot be undone.
person-erase-confirm = Type the username to confirm:
person-erase-button = Erase { $name }

## Backups

backup-lead = A backup is a copy of everything on this box: the school, its people and classes, and all the work and files. folio keeps working while it is written. Keep backups somewhere safe: they hold the students' work.
backup-running = Backing up to { $place }…
backup-failed = The backup to { $place } did not work
backup-finished = Backup finished
backup-running-hint = This page updates by itself. Do not take out the USB stick yet.
backup-where = Where to
backup-no-stick-before = No USB stick found. Plug one into the box (FAT32 or exFAT, as shops sell them; it appears under
backup-no-stick-after = ), wait a few seconds and reload this page.
backup-to = Back up to { $place }
backup-none-on-it = No folio backups on it yet.
backup-on = Backups on { $place }
backup-col-folder = Folder
backup-col-made = Made
backup-col-schools = Schools
backup-col-size = Size
backup-restoring = Restoring a backup
backup-restoring-lead = To bring a backup back onto a freshly flashed box (or this one), stop folio and restore from the command line:
backup-guide-before = The appliance's guide (
backup-guide-after = ) explains how to reach the command line.
restore-lead = Bring back a school from a backup on a USB stick, instead of setting up a new one: on a freshly flashed box, or to replace a broken one. Everything in the backup comes back: the school, its people and classes, all the work. Everyone signs in with the accounts from the backup.
restore-failed = The restore did not work
restore-running = Restoring…
restore-keep-stick = Do not take out the USB stick.
restore-none-before = No backup found. Plug in the USB stick with the backup (a folder named
restore-none-after = ), wait a few seconds and reload this page.
restore-which = Which backup
restore-made = made { $when } ({ $size })
restore-on = on { $place }: { $name }
restore-setup-code = Setup code (on the box's screen)
restore-button = Restore this backup
restore-new-instead = Set up a new school instead

## Other boxes

peers-col-box = Box
nearby-heading = Nearby boxes
nearby-mdns-off = This box does not look for other boxes on the network (mDNS is off). Add a paired box's address below.
nearby-none = No other folio box has announced itself on this network in the last five minutes. If you expected one, the Wi-Fi may block multicast: add the other box's address below instead.
nearby-caption = folio boxes this box can see on the network
nearby-col-addresses = Addresses
nearby-col-paired = Paired
nearby-col-seen = Last seen
nearby-hint = Box ids are only hints: a box is trusted only after pairing, by its key.
nearby-add-address = Add an address
nearby-pair-first = Once a box is paired, you can tell this box where to find it here if it does not appear above.
nearby-paired-box = Paired box
nearby-its-address = Its address
nearby-address-hint = An IP address or a name, and the port if it is not 7443.
nearby-add-button = Add address
bundles-heading = USB bundles
bundles-lead = For boxes with no network between them: download a bundle for a paired box, carry it on a USB stick, and import it on that box. A bundle holds only what the other box lacks, is signed by this box, and can be imported more than once without harm.
bundles-pair-first = Pair with another box first.
bundles-download = Download a bundle for box { $box }
bundles-import-label = Import a bundle from a paired box

## Offline

offline-heading = You are offline
offline-lead = The folio box cannot be reached, and this page is not saved on this device.
offline-saved = Your own portfolio and the pages of your work you opened before are saved here.
offline-go-portfolio = Go to my portfolio
offline-back = When you are back on the school network, everything works again by itself.

## Families: invitation sheets and joining
title-family-invitations = Family invitations
title-family-join = Join your child's folio
family-join-child = Join { $name }'s folio
family-join-sibling-lead = You are signed in. Type the code from your other child's sheet to add them to your account.
family-code-label = Code from the sheet
family-join-add-child = Add this child
family-join-lead = Choose how you will sign in. Only you and the school see your name.
family-join-your-name = Your name (for example: Ana's dad)
family-join-username = Username
family-join-password = Password (8 characters or more)
family-join-submit = Join
family-join-have-account = Already have a folio account?
family-join-sign-in = Sign in
family-join-then-open = then open the link again to add this child.
family-sheets-heading = Family invitations: { $class }
family-sheets-print-hint = Print this page: one sheet per student. Printing again makes new sheets and these stop working.
family-back = Back
family-sheet-heading = See { $name }'s work in folio
family-sheet-step-wifi = Connect your phone to the school Wi-Fi.
family-sheet-step-scan = Scan the QR code with the camera, or open this address and type the code:
family-sheet-step-account = Choose your name, a username and a password.
family-sheet-code = Code:
family-sheet-limits = For up to 4 family members. Works until { $day }. Keep this sheet private.
family-sheets-lead = One sheet per student, to take home. A family member scans the QR code (or types the code) on the school Wi-Fi and makes their own sign-in. Up to 4 family members can join with one sheet, for 60 days.
family-sheets-print = Print new sheets
family-sheets-reprint-warning = Sheets printed earlier for these students stop working. Families who already joined stay linked.
family-back-to-class = Back to the class
review-held-heading = Comments waiting for you
review-held-approve = Approve comment

## One class: activities, sharing, roster
class-code-lead = Class code for picture sign-in:
class-activities = Activities
class-no-activities = No activities yet.
class-post-activity = Post a new activity
class-activity-prompt = What should students do?
class-activity-due = Due date (optional)
class-activity-files = Example files (optional)
class-activity-post = Post activity
class-sharing = Sharing
class-require-approval = New work and comments wait for a teacher before classmates and families see them
class-comments-allowed = Classmates may comment on shared work
class-family-sharing = Families see work shared with them
class-hold-family-comments = Family comments wait for a teacher
class-save-sharing = Save sharing settings
class-teachers = Teachers
class-no-teachers = No teacher yet. An administrator can add one below.
class-students = Students
class-no-students = No students yet. Add them below or import a roster.
class-students-in = Students in { $class }
class-signs-in-with = Signs in with
class-actions = Actions
class-credentials-pictures = pictures
class-credentials-card = QR card
class-credentials-password = password
class-credentials-none = nothing yet: set pictures or print a card
class-student-work = Work
class-student-signin = Sign-in options
class-print-cards = Print QR sign-in cards
class-print-cards-hint = Printing makes new cards: earlier cards stop working and the class's students are signed out.
class-family-sheets = Family invitation sheets
class-family-sheets-hint = : one per student, for families to join on the school Wi-Fi.
class-add-student = Add a student
class-student-name = Student's name
class-add-student-button = Add student
class-add-existing = Add someone who already has an account
class-their-username = Their username
class-as = As
class-add-to-class = Add to class
class-import = Import a roster
class-import-lead-before = A CSV file with one student a line:
class-import-lead-after = . If any line is wrong, nothing is imported and each problem is listed.
class-import-line = Line { $line }:
class-roster-file = Roster file (CSV)
class-imported = { $count ->
    [one] Imported { $count } student ({ $new } new).
   *[other] Imported { $count } students ({ $new } new).
}

## One piece of work
artifact-back-class = Class
artifact-by = by { $names }
artifact-who-can-see = Who can see this
artifact-waiting = waiting for a teacher
artifact-reviewed-not-shared = Your teacher has looked at it: read the feedback. It is not shared with the class yet.
artifact-approved = approved
artifact-from-home = from home
artifact-reflection = Reflection
artifact-conflict = Another version of your reflection was written on another device at the same time. Here it is, so nothing is lost:
artifact-teacher = Teacher
artifact-withdraw-approval = Withdraw approval
artifact-approve = Approve for sharing
artifact-feedback-heading = Feedback and comments
artifact-nothing-yet = Nothing yet.
artifact-teacher-feedback = Teacher feedback
artifact-approve-comment = Approve comment
artifact-your-feedback = Your feedback
artifact-your-comment = Your comment
artifact-record = Record voice feedback
artifact-send-feedback = Send feedback
artifact-send-comment = Send comment
artifact-versions = Versions
artifact-file-on-its-way = (on its way from another box)
artifact-new-version = Add a new version
artifact-what-changed = What changed?
artifact-add-version = Add version
artifact-change-details = Change the details
artifact-delete = Delete this work
artifact-delete-hint = It is removed from every box. This cannot be undone.

## Other boxes (pairing and sync)
peers-lead = folio boxes that are paired share their schools' work with each other over the school network, by themselves: every few minutes, and soon after something changes. Pairing needs an administrator on both boxes.
peers-this-box = This box
peers-box-id = Box id
peers-in-full = in full:
peers-reach-at = Other boxes reach it at
peers-port = port { $port }
peers-port-off = cannot reach this box: its port for them is off
peers-paired = Paired boxes
peers-none = This box is not paired with any other box yet. Invite one, or join one, below.
peers-caption = Boxes this box syncs with
peers-col-address = Address
peers-col-shares = Shares
peers-col-last-sync = Last sync
peers-col-changes = Changes sent / received
peers-col-data = Data sent / received
peers-col-files = Files sent / received
peers-col-pending = Files on their way
peers-unknown = unknown
peers-never = never
peers-scope-whole = every school, whole
peers-scope-classes = { $classes ->
    [one] { $classes } class
   *[other] { $classes } classes
} of { $schools ->
    [one] { $schools } school
   *[other] { $schools } schools
}
peers-sync-now = Sync now
peers-unpair-confirm = Yes, stop sharing with box { $box }
peers-unpair = Unpair
peers-invite = Invite a box
peers-invitation-made = Enter this invitation on the other box (its page "Other boxes", "Join a box"), or scan the code there. It works once, until { $until }. Anyone who has it can pair a box with this one: keep it to yourself.
peers-invitation = Invitation
peers-invite-lead = Make an invitation here, then enter it on the other box. The two boxes then share every school they hold.
peers-join = Join a box
peers-join-label = The invitation from the other box
peers-join-button = Join
peers-join-placeholder = folio1:…
notice-peer-joined = Paired. The two boxes sync by themselves from now on.
notice-peer-synced = Synced.
notice-peer-unpaired = Unpaired. That box is refused from now on, and this box no longer calls it.

## The weekly family digest (family_digest.html, family_digest_section.html)
title-family-digest = Weekly digest
digest-page-heading = { $name }: weekly digest
digest-class-heading = Weekly digests: { $class }
digest-print-hint = Print this page to take home: each student's digest starts on a new sheet.
digest-previous-week = Previous week
digest-next-week = Next week
digest-heading = { $name }'s week in folio
digest-week = From { $from } to { $to }
digest-sharing-off = Family sharing is off for this class: families see none of its work, so there is nothing to print.
digest-nothing = Nothing was shared with the family this week.
digest-reflection = { $name } wrote:
digest-feedback-from = Feedback from { $name }:
digest-voice = (spoken feedback: listen to it in folio)
digest-foot = Printed from folio, the school's own portfolio. Only the school and your family see this work.
class-family-digests = Weekly family digests
class-family-digests-hint = print this week's work shared with families, one sheet per student, each in the family's language.
home-family-digest = This week on paper
skills-lead = The skills, standards and competences work is tagged with and rated on. Students choose them when they post work; teachers rate them while reviewing.
skills-none = No skills yet. Add them one by one or import a list below.
skills-no-group = Other skills
skills-col-code = Code
skills-col-name = Name
skills-retired = Retired
skills-retire = Retire
skills-restore = Offer again
skills-add = Add a skill
skills-group-optional = Group (optional)
skills-add-button = Add skill
skills-import = Import skills
skills-import-lead = A CASE 1.1 package (a .json file from a standards publisher) or a CSV file with the columns code, name, group. Importing the same file again updates the skills instead of adding them twice.
skills-import-file = CASE package or CSV file
skills-levels = Levels
skills-default-level = { $level ->
    [beginning] Beginning
    [developing] Developing
    [secure] Secure
   *[extending] Extending
}
skills-levels-edit = Level names, lowest first, one per line (2 to 10)
skills-levels-save = Save levels
skills-levels-reset = Back to the default levels
skills-levels-admins = Administrators choose the school's levels.
rating-heading = Skills
rating-legend = Rate the skills of this version
rating-self-legend = How did you do? Rate yourself
rating-no-skills = This work is not tagged with any skills yet.
rating-none = Not rated
rating-teacher-said = Your teacher:
rating-student-said = The student's own rating:
rating-save = Save ratings
class-family-sees-ratings = Families see the teachers' ratings of their child's work

## Families: adding from home
title-family-add = Add from home
family-add-heading = Add to { $name }'s portfolio
family-add-lead = A photo, a video, a recording or a note from home. It goes into { $name }'s portfolio, kept private until the teacher has seen it. Without the school's Wi-Fi it waits on this phone and is sent when you are back.
family-add-link = Add something from home for { $name }
notice-from-home-sent = Added. The teacher will see it first.
family-add-note = A few words about it (for your child and the teacher)
family-add-send = Add it

## The new-work form's skills and group work; an activity's skills
work-form-skills = What did you practise?
work-form-made-with = Did you make it with classmates?
work-form-made-with-hint = Tick the classmates who made it with you. It goes into their portfolios too.
activity-skills = Skills to practise
class-activity-skills = Skills it practises (optional)

## Picture sign-in for a whole class, and its printed cards
class-pictures-give = Picture sign-in for the whole class
class-pictures-give-hint = Every student without pictures gets three, and you print their cards. Students who have pictures keep them.
class-pictures-everyone = New pictures for everyone
class-pictures-everyone-warning = Every student in the class gets new pictures. Their old pictures and QR cards stop working, and they are signed out.
class-pictures-everyone-confirm = Yes, change every student's pictures
class-pictures-everyone-button = Give everyone new pictures
picture-cards-title = Picture cards for { $class }
picture-cards-heading = Picture cards: { $class }
picture-cards-instructions = { $count ->
    [one] One student got new pictures.
   *[other] { $count } students got new pictures.
} Print this page now: the pictures are shown only this once. Cut out the cards and give each child theirs.
picture-cards-none-new = Every student already had pictures: nothing changed, and there are no new cards to print. To change them, choose "New pictures for everyone" on the class page.
picture-cards-kept = { $count ->
    [one] One student kept the pictures they had:
   *[other] { $count } students kept the pictures they had:
}
picture-cards-class-code = Class code:

## The school report and the school leader's home
title-school-report = School report
nav-reports = School report
home-leader-lead = You follow the work of { $school }: every class's reports, and the work its students share with their class or their families.
home-school-report = The school report
home-school-report-hint = Work posted, feedback and skill levels per class and week.
school-report-lead = Per class and per week, from { $from } to { $to }.
school-report-counts-only = Administrators see the counts only: classes are numbered and no names are shown.
school-report-from = From
school-report-to = To
school-report-show = Show
school-report-weeks-hint = Weeks start on Monday (UTC). Turnaround is the median time from posting to the first teacher feedback.
school-report-no-classes = The school has no classes yet.
school-report-class-number = Class { $number }
school-report-nothing = Nothing was posted, given feedback or rated in these weeks.
school-report-caption = Weeks of { $class }
school-report-week = Week of
school-report-posts = Work posted
school-report-students = Students who posted
school-report-feedback = Feedback given
school-report-turnaround = Turnaround
school-report-level = Rated “{ $level }”
school-report-hours = { $hours } h
school-report-total = All these weeks
title-activity-edit = Change the activity
class-activity-edit = Change “{ $title }”
activity-edit-save = Save changes
