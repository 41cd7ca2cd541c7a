# Reports: the class report, a student's report, and their charts.
date-short = { $month } { $day }
chart-empty = Nothing to show yet.
chart-teacher = Teacher
chart-self = Self-assessment
chart-participation-title = Pieces per student
chart-participation-desc = One bar per student: how many pieces of work each posted in the chosen dates. The table below has the same numbers.
chart-levels-title = Students at each level
chart-levels-desc = One bar per skill, in parts: how many students' latest teacher rating is at each level. The table below has the same numbers.
chart-weeks-title = Posts per week
chart-weeks-desc = One bar per week: how many pieces of work were posted that week. The table below has the same numbers.
chart-skill-title = { $skill }: level over time
chart-skill-desc = Each dot is a rating of one version; the solid line is the teachers' ratings, the dashed line the student's own. The table below has the same ratings.
title-class-report = Class report
title-student-report = Progress report
class-report-link = Class report: who posted, feedback and skills
report-heading = Report: { $name }
report-student-heading = Progress of { $name }
report-from = From
report-to = To
report-quiet-days = Flag students with nothing posted for this many days
report-show = Show
report-download-csv = Download as CSV (spreadsheet)
report-students = Students
report-student = Student
report-pieces = Pieces
report-versions = Versions
report-last-posted = Last posted
report-never = Never
report-feedback = Feedback received
report-activities = Activities answered
report-answered-of = { $answered } of { $total }
report-quiet = Quiet
report-quiet-flag = Nothing for { $days ->
    [one] { $days } day
   *[other] { $days } days
}
report-skill-latest = teacher
report-skill-self = self
report-no-students = This class has no students yet.
report-activities-heading = Activities
report-answered-by = Answered by
report-nobody = Nobody yet
report-no-activities = This class has no activities yet.
report-turnaround-heading = Feedback turnaround
report-turnaround-hours = Half of the work got its first teacher feedback within { $hours ->
    [one] { $hours } hour
   *[other] { $hours } hours
} of being posted.
report-turnaround-days = Half of the work got its first teacher feedback within { $days ->
    [one] { $days } day
   *[other] { $days } days
} of being posted.
report-turnaround-none = No teacher feedback on work posted in these dates yet.
report-levels-heading = Levels per skill
report-skill = Skill
report-skills-heading = Skills over time
report-no-ratings = No ratings yet.
report-when = When
report-level = Level
report-by = By
report-work = Work
report-weeks-heading = Posts per week
report-week-of = Week of
report-posts = Posts
report-growth-heading = Pieces with the most versions
report-no-work = No work yet.
portfolio-report-link = Progress report
home-my-progress = My progress
