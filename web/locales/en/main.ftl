## folio's messages in English. Ids are stable; translators change only the text.
## See "Translating folio" in README.md.

language-name = English
app-name = folio

## Formats: numbers, sizes, dates

number-decimal = .
number-group = ,
number-digits = 0123456789
size-bytes = { $count ->
    [one] { $size } byte
   *[other] { $size } bytes
}
size-kb = { $size } KB
size-mb = { $size } MB
size-gb = { $size } GB
size-tb = { $size } TB
date-long = { $weekday }, { $month } { $day }, { $year }
weekday-0 = Sunday
weekday-1 = Monday
weekday-2 = Tuesday
weekday-3 = Wednesday
weekday-4 = Thursday
weekday-5 = Friday
weekday-6 = Saturday
month-1 = January
month-2 = February
month-3 = March
month-4 = April
month-5 = May
month-6 = June
month-7 = July
month-8 = August
month-9 = September
month-10 = October
month-11 = November
month-12 = December

## Every page

nav-skip = Skip to content
nav-main = Main
nav-home = Home
nav-classes = Classes
nav-review = Review
nav-people = People
nav-skills = Skills
nav-backup = Backup
nav-peers = Other boxes
nav-sign-out = Sign out
search-all-label = Search all the work you can see
search-placeholder = Search
search-button = Search
language-menu-label = Language
foot-device = Set up this device
foot-device-hint = for the secure address and working offline
foot-offline-setup = To use folio offline on this device, set it up:
back = Back
yes = Yes
no = No
save = Save
import = Import

## Titles

title-home = Home
title-classes = Classes
title-review = Review
title-search = Search
title-people = People
title-skills = Skills
title-backup = Backup
title-peers = Other boxes
title-setup = Set up
title-signin = Sign in
title-signin-pictures = Sign in with pictures
title-your-pictures = Your pictures
title-signin-card = Sign in with your card
title-device = Set up this device
title-restore = Restore a backup
title-offline = Offline

## Words used in many places

field-name = Name
field-username = Username
field-password = Password
field-password-hint = At least 8 characters.
field-role = Role
field-title = Title
field-tags = Tags (separated by commas)
field-who-can-see = Who can see it?
role = { $role ->
    [admin] Administrator
    [teacher] Teacher
    [student] Student
    [leader] School leader
   *[family] Family
}
visibility = { $visibility ->
    [private] Just me and my teachers
    [class] My class
   *[family] My class and my family
}
kind = { $kind ->
    [image] Photo or picture
    [video] Video
    [audio] Recording
    [document] Document
    [code] Code
    [text] Writing
   *[other] File
}
picture = { $stem ->
    [sun] Sun
    [moon] Moon
    [star] Star
    [heart] Heart
    [tree] Tree
    [fish] Fish
    [cat] Cat
    [apple] Apple
    [car] Car
    [house] House
    [flower] Flower
   *[ball] Ball
}
review-new-feedback = { $count ->
    [one] { $count } new feedback
   *[other] { $count } new feedback
}
