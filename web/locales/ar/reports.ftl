# التقارير: تقرير الصف وتقرير الطالب ورسومهما البيانية.
date-short = { $day } { $month }
chart-empty = لا يوجد ما يُعرض بعد.
chart-teacher = المعلّم
chart-self = التقييم الذاتي
chart-participation-title = الأعمال لكل طالب
chart-participation-desc = عمود لكل طالب: عدد الأعمال التي نشرها في التواريخ المختارة. الجدول أدناه فيه الأرقام نفسها.
chart-levels-title = الطلاب في كل مستوى
chart-levels-desc = عمود لكل مهارة مقسّم إلى أجزاء: عدد الطلاب الذين يقع آخر تقييم من المعلّم لهم في كل مستوى. الجدول أدناه فيه الأرقام نفسها.
chart-weeks-title = المنشورات في كل أسبوع
chart-weeks-desc = عمود لكل أسبوع: عدد الأعمال التي نُشرت في ذلك الأسبوع. الجدول أدناه فيه الأرقام نفسها.
chart-skill-title = { $skill }: المستوى عبر الزمن
chart-skill-desc = كل نقطة تقييم لنسخة واحدة؛ الخط المتصل تقييمات المعلّمين، والخط المتقطّع تقييم الطالب لنفسه. الجدول أدناه فيه التقييمات نفسها.
title-class-report = تقرير الصف
title-student-report = تقرير التقدّم
class-report-link = تقرير الصف: من نشر، والملاحظات، والمهارات
report-heading = التقرير: { $name }
report-student-heading = تقدّم { $name }
report-from = من
report-to = إلى
report-quiet-days = تمييز الطلاب الذين لم ينشروا شيئًا منذ هذا العدد من الأيام
report-show = اعرض
report-download-csv = نزّل بصيغة CSV (جدول بيانات)
report-students = الطلاب
report-student = الطالب
report-pieces = الأعمال
report-versions = النسخ
report-last-posted = آخر نشر
report-never = أبدًا
report-feedback = الملاحظات المستلمة
report-activities = الأنشطة المُجابة
report-answered-of = { $answered } من { $total }
report-quiet = بلا نشاط
report-quiet-flag = لا شيء منذ { $days ->
    [zero] { $days } يوم
    [one] يوم واحد
    [two] يومين
    [few] { $days } أيام
   *[other] { $days } يومًا
}
report-skill-latest = المعلّم
report-skill-self = ذاتي
report-no-students = لا يوجد طلاب في هذا الصف بعد.
report-activities-heading = الأنشطة
report-answered-by = أجاب عنه
report-nobody = لا أحد بعد
report-no-activities = لا توجد أنشطة في هذا الصف بعد.
report-turnaround-heading = سرعة الملاحظات
report-turnaround-hours = نصف الأعمال تلقّى أول ملاحظة من المعلّم خلال { $hours ->
    [zero] { $hours } ساعة
    [one] ساعة واحدة
    [two] ساعتين
    [few] { $hours } ساعات
   *[other] { $hours } ساعة
} من نشره.
report-turnaround-days = نصف الأعمال تلقّى أول ملاحظة من المعلّم خلال { $days ->
    [zero] { $days } يوم
    [one] يوم واحد
    [two] يومين
    [few] { $days } أيام
   *[other] { $days } يومًا
} من نشره.
report-turnaround-none = لا توجد بعد ملاحظات من المعلّم على أعمال نُشرت في هذه التواريخ.
report-levels-heading = المستويات لكل مهارة
report-skill = المهارة
report-skills-heading = المهارات عبر الزمن
report-no-ratings = لا توجد تقييمات بعد.
report-when = متى
report-level = المستوى
report-by = من قيّم
report-work = العمل
report-weeks-heading = المنشورات في كل أسبوع
report-week-of = أسبوع
report-posts = المنشورات
report-growth-heading = الأعمال ذات أكثر النسخ
report-no-work = لا توجد أعمال بعد.
portfolio-report-link = تقرير التقدّم
home-my-progress = تقدّمي
