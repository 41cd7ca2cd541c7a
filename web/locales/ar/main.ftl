## رسائل folio بالعربية. لا تتغير المعرّفات؛ يُترجم النص فقط.

language-name = العربية
app-name = folio
number-decimal = ٫
number-group = ٬
number-digits = ٠١٢٣٤٥٦٧٨٩
size-bytes = { $size } بايت
size-kb = { $size } ك.ب
size-mb = { $size } م.ب
size-gb = { $size } ج.ب
size-tb = { $size } ت.ب
date-long = { $weekday }، { $day } { $month } { $year }
weekday-0 = الأحد
weekday-1 = الاثنين
weekday-2 = الثلاثاء
weekday-3 = الأربعاء
weekday-4 = الخميس
weekday-5 = الجمعة
weekday-6 = السبت
month-1 = يناير
month-2 = فبراير
month-3 = مارس
month-4 = أبريل
month-5 = مايو
month-6 = يونيو
month-7 = يوليو
month-8 = أغسطس
month-9 = سبتمبر
month-10 = أكتوبر
month-11 = نوفمبر
month-12 = ديسمبر
nav-skip = انتقل إلى المحتوى
nav-main = الرئيسية
nav-home = الصفحة الرئيسية
nav-classes = الصفوف
nav-review = المراجعة
nav-people = الأشخاص
nav-skills = المهارات
nav-backup = النسخ الاحتياطي
nav-peers = الأجهزة الأخرى
nav-sign-out = تسجيل الخروج
search-all-label = ابحث في كل الأعمال التي يمكنك رؤيتها
search-placeholder = بحث
search-button = بحث
language-menu-label = اللغة
foot-device = إعداد هذا الجهاز
foot-device-hint = للعنوان الآمن وللعمل دون اتصال
foot-offline-setup = لاستخدام folio دون اتصال على هذا الجهاز، أعدَّه:
back = رجوع
yes = نعم
no = لا
save = حفظ
import = استيراد
title-home = الصفحة الرئيسية
title-classes = الصفوف
title-review = المراجعة
title-search = بحث
title-people = الأشخاص
title-skills = المهارات
title-backup = النسخ الاحتياطي
title-peers = الأجهزة الأخرى
title-setup = الإعداد
title-signin = تسجيل الدخول
title-signin-pictures = الدخول بالصور
title-your-pictures = صورك
title-signin-card = الدخول ببطاقتك
title-device = إعداد هذا الجهاز
title-restore = استعادة نسخة احتياطية
title-offline = دون اتصال
field-name = الاسم
field-username = اسم المستخدم
field-password = كلمة المرور
field-password-hint = ٨ أحرف على الأقل.
field-role = الدور
field-title = العنوان
field-tags = الوسوم (مفصولة بفواصل)
field-who-can-see = من يمكنه رؤيته؟
role = { $role ->
    [admin] مسؤول
    [teacher] معلّم
    [student] طالب
    [leader] قيادة المدرسة
   *[family] أسرة
}
visibility = { $visibility ->
    [private] أنا ومعلّميّ فقط
    [class] صفّي
   *[family] صفّي وأسرتي
}
kind = { $kind ->
    [image] صورة أو رسم
    [video] فيديو
    [audio] تسجيل صوتي
    [document] مستند
    [code] برمجة
    [text] كتابة
   *[other] ملف
}
picture = { $stem ->
    [sun] شمس
    [moon] قمر
    [star] نجمة
    [heart] قلب
    [tree] شجرة
    [fish] سمكة
    [cat] قطة
    [apple] تفاحة
    [car] سيارة
    [house] بيت
    [flower] زهرة
   *[ball] كرة
}
review-new-feedback = { $count ->
    [zero] لا ملاحظات جديدة
    [one] ملاحظة جديدة واحدة
    [two] ملاحظتان جديدتان
    [few] { $count } ملاحظات جديدة
    [many] { $count } ملاحظة جديدة
   *[other] { $count } ملاحظة جديدة
}
