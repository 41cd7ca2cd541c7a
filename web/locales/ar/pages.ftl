signin-heading = تسجيل الدخول
signin-with-pictures = الدخول بالصور
signin-card-hint = لديك بطاقة دخول؟ امسح رمز QR بالكاميرا.
signin-with-password = الدخول بكلمة المرور
signin-button = دخول
signin-device-before = للعمل دون اتصال أو لاستخدام الكاميرا على هذا الجهاز،
signin-device-link = أعِدّ هذا الجهاز
signin-device-after = أولًا (مرة واحدة، ويقوم بها عادةً فريق تقنية المعلومات في المدرسة).
signin-class-heading = في أي صف أنت؟
signin-class-remembered = الصفوف على هذا الجهاز
signin-class-or-type = أو اكتب رمز صفك:
signin-class-code = رمز الصف
signin-class-next = التالي
signin-class-password-instead = الدخول بكلمة المرور بدلًا من ذلك
signin-students-heading = { $class }: المس اسمك
signin-students-label = الطلاب
signin-students-none = لا يوجد طلاب في هذا الصف بعد. اسأل معلّمك.
signin-students-other-class = صف آخر
signin-pictures-heading = مرحبًا يا { $name }! المس صورك الثلاث
signin-pictures-chosen = اخترت { $count } من ٣ صور
signin-pictures-not-me = هذا ليس أنا
card-confirm-heading = هل أنت { $name }؟
card-confirm-yes = نعم، هذا أنا
card-confirm-no = لا، ارجع
setup-heading = إعداد folio
setup-lead-before = أهلًا بك. أدخل رمز الإعداد الظاهر على شاشة الجهاز (وهو أيضًا في الملف
setup-lead-after = في مجلد بيانات folio)، وسمِّ مدرستك، وأنشئ حساب المسؤول.
setup-code = رمز الإعداد
setup-school-name = اسم المدرسة
setup-your-name = اسمك
setup-button = إعداد folio
setup-restore-question = هل تستبدل جهازًا، أو تبدأ من جديد من نسخة احتياطية؟
setup-restore-link = استعادة نسخة احتياطية من ذاكرة USB
home-hello = مرحبًا، { $name }
home-admin-lead = أنت تعتني بـ { $school } على هذا الجهاز.
home-review = راجع الأعمال الجديدة
home-review-count = راجع الأعمال الجديدة ({ $count })
home-your-classes = صفوفك
home-no-classes = ليس لديك صفوف بعد.
home-create-one = أنشئ صفًا.
home-student-lead = هذا ملف أعمالك.
home-activities = الأنشطة
home-make-new = اصنع شيئًا جديدًا
home-my-work = أعمالي
home-family-none = لم يُربط أي طالب بحسابك بعد. اسأل المدرسة.
home-child-work = أعمال { $name }
home-family-new = جديد منذ زيارتك الأخيرة
home-family-new-work = جديد
home-family-nothing-new = لا جديد بعد.
home-family-earlier = شوهد من قبل
home-family-add-child = أضف طفلًا آخر برمز من ورقة الدعوة
work-empty-home = لا شيء هنا بعد. اصنع شيئًا!
work-empty = لا شيء لعرضه بعد.
portfolio-heading = ملف أعمال { $name }
outbox-heading = بانتظار الإرسال
outbox-hint = صُنع حين تعذّر الوصول إلى الجهاز. يُحفظ على هذا الجهاز ويُرسَل تلقائيًا عندما يصبح الجهاز في المتناول.
work-form-add-files = أضف صورًا أو فيديوهات أو تسجيلات أو ملفات
work-form-camera = استخدم الكاميرا
work-form-drag = أو اسحب الملفات إلى هنا.
work-form-reflection = ماذا صنعت؟ ماذا تعلّمت؟
work-form-save = احفظ عملي
files-label = الملفات
files-on-its-way = في الطريق من جهاز آخر
activity-due = موعد التسليم { $date }
activity-due-short = التسليم { $date }
activity-examples = أمثلة
activity-answered = أجابوا
activity-not-yet = لم يجيبوا بعد
activity-answer = أجب عن هذا النشاط
review-heading = أعمال جديدة للمراجعة
review-waiting = بالانتظار: { $count }.
review-from = هذا العمل من { $owners }.
review-from-in-class = هذا العمل من { $owners } في { $class }.
review-feedback-label = ملاحظات (اختياري)
review-approve-next = وافق وانتقل للتالي
review-feedback-next = ملاحظات فقط، التالي
review-skip = تخطَّ الآن
review-nothing = لا شيء بالانتظار. أحسنت!
classes-none = لا صفوف بعد.
classes-code = الرمز { $code }
classes-new = صف جديد
classes-name = اسم الصف
classes-create = أنشئ الصف
cards-title = بطاقات الدخول · { $title }
cards-heading = بطاقات الدخول: { $title }
cards-instructions = اطبع هذه الصفحة وقصّ البطاقات. كل بطاقة تُدخل طالبًا واحدًا: احفظها جيدًا. الطباعة مرة أخرى تصنع بطاقات جديدة وتوقف هذه.
cards-scan-me = امسحني للدخول إلى folio
search-heading = بحث
search-words = كلمات للبحث عنها
search-filters-in-use = عوامل التصفية المستخدمة
search-remove-filter = (أزل عامل التصفية هذا)
search-nothing = لم يُعثر على شيء. جرّب كلمات أقل أو مختلفة.
search-count = { $range } من { $count ->
    [one] عمل واحد.
    [two] عملين.
    [few] { $total } أعمال.
   *[other] { $total } عملًا.
}
search-facet-kind = النوع
search-facet-class = الصف
search-facet-tag = الوسم
search-facet-skill = المهارة
search-a-class = صف
search-chip-class = الصف: { $class }
search-chip-student = أعمال طالب واحد
search-chip-tag = الوسم: { $tag }
search-chip-skill = المهارة: { $skill }
search-chip-kind = النوع: { $kind }
search-chip-activity = نشاط واحد
search-chip-from = من { $day }
search-chip-to = حتى { $day }
search-best-first = الأكثر تطابقًا أولًا
search-newest-first = الأحدث أولًا
search-narrow = ضيّق النتائج
search-more = نتائج أخرى
search-previous = السابق
search-next = التالي
people-caption = كل من في { $school }
people-col-status = الحالة
people-disabled = معطَّل
people-active = نشط
people-add = أضف شخصًا
people-password-optional = كلمة المرور (اختيارية للطلاب الصغار)
people-add-button = أضف الشخص
people-oneroster = استيراد من نظام معلومات المدرسة (OneRoster 1.1)
people-oneroster-hint = يصبح الآباء والأمهات والأوصياء والأقارب حسابات عائلية مرتبطة بالأطفال الذين يسمّيهم سطرهم (agentSourcedIds). ليست لهم كلمة مرور: اطبع لأحدهم بطاقة QR من صفحته، أو يطبع معلم الصف أوراق دعوة العائلات. الأسطر الموسومة tobedeleted تعطّل الشخص أو تزيل مكانه في الصف، وإعادة استيراد الملفات نفسها لا تغيّر شيئًا.
import-fix-lines = لم يُستورد شيء. صحّح هذه الأسطر وحاول مرة أخرى:
import-file-line = { $file } السطر { $line }:
import-refused = لم يُستورد شيء: أسطر تحتاج إلى تصحيح ({ $count }). تجدها تحت نموذج الاستيراد.
people-school-language = لغة المدرسة
people-school-language-label = تُعرض الصفحات بـ
people-school-language-none = ما يطلبه كل متصفح (وإلا فالإنجليزية)
people-school-language-hint = للأشخاص والأجهزة التي لم تختر لغة بنفسها.
people-search-language = لغة البحث
people-search-language-label = يفهم البحث نهايات الكلمات في
people-search-language-hint = مع الإسبانية، تجد "canciones" أيضًا "canción". علامات التشكيل لا تهم أبدًا.
person-username = اسم المستخدم
person-disabled = معطَّل
person-pictures-now = صور { $name } الآن، بهذا الترتيب:
person-pictures-show = أرِها لـ { $name }؛ لن يعرضها folio مرة أخرى.
person-signing-in = تسجيل الدخول
person-has-pictures = لديه تسلسل صور.
person-has-card = لديه بطاقة QR.
person-ask-teacher = لتغيير طريقة دخولك، اسأل معلّمك.
person-pictures = الصور
person-no-pictures = لا صور بعد.
person-current-password = كلمة مرورك الحالية
person-new-pictures = اختر صورًا جديدة
person-secret-hint-self = ستُسجَّل خارجًا في كل مكان آخر، وتتوقف بطاقة QR عن العمل.
person-secret-hint-other = سيُسجَّل { $name } خارجًا في كل مكان، وتتوقف بطاقة QR عن العمل.
person-card = بطاقة الدخول
person-print-card = اطبع بطاقة QR جديدة
person-card-hint-self = تتوقف البطاقة القديمة عن العمل، وتُسجَّل خارجًا في كل مكان آخر.
person-card-hint-other = تتوقف البطاقة القديمة عن العمل، ويُسجَّل { $name } خارجًا في كل مكان.
person-new-password = كلمة مرور جديدة
person-set-password = عيّن كلمة المرور
person-family-link = ربط الأسرة
person-family = الأسرة
person-unlink = إلغاء الربط
person-link-student = اربط بالطالب صاحب اسم المستخدم
person-link = اربط
person-account = الحساب
person-enable = فعّل الحساب
person-disable = عطّل الحساب
person-disable-hint = يسجّل خروجهم من كل مكان فورًا.
person-erase = المحو
person-erase-lead = لطلب خصوصية: يزيل حساب { $name } وأعماله وملفاته وتعليقاته وأماكنه في الصفوف من هذا الجهاز، ومن كل جهاز عبر المزامنة. لا يمكن التراجع عن ذلك.
person-erase-confirm = اكتب اسم المستخدم للتأكيد:
person-erase-button = امحُ { $name }
backup-lead = النسخة الاحتياطية نسخة من كل ما على هذا الجهاز: المدرسة وأشخاصها وصفوفها، وكل الأعمال والملفات. يستمر folio في العمل أثناء كتابتها. احفظ النسخ في مكان آمن: فيها أعمال الطلاب.
backup-running = جارٍ النسخ إلى { $place }…
backup-failed = لم ينجح النسخ إلى { $place }
backup-finished = انتهى النسخ الاحتياطي
backup-running-hint = تتحدّث هذه الصفحة تلقائيًا. لا تُخرج ذاكرة USB بعد.
backup-where = إلى أين
backup-no-stick-before = لم يُعثر على ذاكرة USB. صِل واحدة بالجهاز (FAT32 أو exFAT كما تُباع؛ تظهر تحت
backup-no-stick-after = )، وانتظر بضع ثوانٍ ثم أعد تحميل الصفحة.
backup-to = انسخ إلى { $place }
backup-none-on-it = لا نسخ folio عليها بعد.
backup-on = النسخ على { $place }
backup-col-folder = المجلد
backup-col-made = أُنشئت
backup-col-schools = المدارس
backup-col-size = الحجم
backup-restoring = استعادة نسخة احتياطية
backup-restoring-lead = لإعادة نسخة إلى جهاز مثبَّت حديثًا (أو إلى هذا)، أوقف folio واستعد من سطر الأوامر:
backup-guide-before = يشرح دليل الجهاز (
backup-guide-after = ) كيفية الوصول إلى سطر الأوامر.
restore-lead = أعد مدرسة من نسخة احتياطية على ذاكرة USB بدلًا من إعداد مدرسة جديدة: على جهاز مثبَّت حديثًا، أو لاستبدال جهاز معطّل. يعود كل ما في النسخة: المدرسة وأشخاصها وصفوفها وكل الأعمال. يدخل الجميع بحسابات النسخة.
restore-failed = لم تنجح الاستعادة
restore-running = جارٍ الاستعادة…
restore-keep-stick = لا تُخرج ذاكرة USB.
restore-none-before = لم يُعثر على نسخة احتياطية. صِل ذاكرة USB التي عليها النسخة (مجلد اسمه
restore-none-after = )، وانتظر بضع ثوانٍ ثم أعد تحميل الصفحة.
restore-which = أي نسخة
restore-made = أُنشئت { $when } ({ $size })
restore-on = على { $place }: { $name }
restore-setup-code = رمز الإعداد (على شاشة الجهاز)
restore-button = استعد هذه النسخة
restore-new-instead = أعِدّ مدرسة جديدة بدلًا من ذلك
peers-col-box = الجهاز
nearby-heading = أجهزة قريبة
nearby-mdns-off = لا يبحث هذا الجهاز عن أجهزة أخرى على الشبكة (mDNS متوقف). أضف عنوان جهاز مقترن أدناه.
nearby-none = لم يعلن أي جهاز folio آخر عن نفسه على هذه الشبكة في الدقائق الخمس الأخيرة. إن كنت تتوقع جهازًا، فقد تحجب شبكة Wi-Fi البث المتعدد: أضف عنوان الجهاز الآخر أدناه.
nearby-caption = أجهزة folio التي يراها هذا الجهاز على الشبكة
nearby-col-addresses = العناوين
nearby-col-paired = مقترن
nearby-col-seen = آخر ظهور
nearby-hint = معرّفات الأجهزة مجرد تلميحات: لا يُوثق بجهاز إلا بعد الاقتران، بمفتاحه.
nearby-add-address = أضف عنوانًا
nearby-pair-first = بعد اقتران جهاز، يمكنك هنا إخبار هذا الجهاز بمكانه إن لم يظهر أعلاه.
nearby-paired-box = الجهاز المقترن
nearby-its-address = عنوانه
nearby-address-hint = عنوان IP أو اسم، والمنفذ إن لم يكن 7443.
nearby-add-button = أضف العنوان
bundles-heading = حزم USB
bundles-lead = لأجهزة لا شبكة بينها: نزّل حزمة لجهاز مقترن، واحملها على ذاكرة USB، واستوردها على ذلك الجهاز. لا تحوي الحزمة إلا ما ينقص الجهاز الآخر، ويوقّعها هذا الجهاز، ويمكن استيرادها أكثر من مرة دون ضرر.
bundles-pair-first = اقترن بجهاز آخر أولًا.
bundles-download = نزّل حزمة للجهاز { $box }
bundles-import-label = استورد حزمة من جهاز مقترن
offline-heading = أنت غير متصل
offline-lead = تعذّر الوصول إلى جهاز folio، وهذه الصفحة غير محفوظة على هذا الجهاز.
offline-saved = ملف أعمالك وصفحات أعمالك التي فتحتها من قبل محفوظة هنا.
offline-go-portfolio = اذهب إلى ملف أعمالي
offline-back = عندما تعود إلى شبكة المدرسة، يعمل كل شيء من جديد تلقائيًا.

## Families: invitation sheets and joining
title-family-invitations = دعوات الأسر
title-family-join = انضموا إلى ملف طفلكم في folio
family-join-child = انضموا إلى ملف { $name } في folio
family-join-sibling-lead = أنت مسجّل الدخول. اكتب الرمز من ورقة طفلك الآخر لإضافته إلى حسابك.
family-code-label = الرمز من الورقة
family-join-add-child = أضف هذا الطفل
family-join-lead = اختر طريقة تسجيل دخولك. لا يرى اسمك إلا أنت والمدرسة.
family-join-your-name = اسمك (مثلًا: والد آنا)
family-join-username = اسم المستخدم
family-join-password = كلمة المرور (8 أحرف أو أكثر)
family-join-submit = انضمام
family-join-have-account = هل لديك حساب في folio؟
family-join-sign-in = سجّل الدخول
family-join-then-open = ثم افتح الرابط مرة أخرى لإضافة هذا الطفل.
family-sheets-heading = دعوات الأسر: { $class }
family-sheets-print-hint = اطبع هذه الصفحة: ورقة لكل طالب. الطباعة مرة أخرى تصنع أوراقًا جديدة وتوقف هذه الأوراق.
family-back = رجوع
family-sheet-heading = شاهدوا أعمال { $name } في folio
family-sheet-step-wifi = صِل هاتفك بشبكة Wi-Fi المدرسة.
family-sheet-step-scan = امسح رمز QR بالكاميرا، أو افتح هذا العنوان واكتب الرمز:
family-sheet-step-account = اختر اسمك واسم مستخدم وكلمة مرور.
family-sheet-code = الرمز:
family-sheet-limits = لأربعة أفراد من الأسرة كحد أقصى. صالحة حتى { $day }. احتفظ بهذه الورقة سرًّا.
family-sheets-lead = ورقة لكل طالب لأخذها إلى البيت. يمسح فرد من الأسرة رمز QR (أو يكتب الرمز) على شبكة Wi-Fi المدرسة وينشئ دخوله الخاص. يمكن لأربعة أفراد من الأسرة الانضمام بورقة واحدة، لمدة 60 يومًا.
family-sheets-print = اطبع أوراقًا جديدة
family-sheets-reprint-warning = الأوراق المطبوعة سابقًا لهؤلاء الطلاب تتوقف عن العمل. الأسر التي انضمت تبقى مرتبطة.
family-back-to-class = العودة إلى الصف
review-held-heading = تعليقات بانتظارك
review-held-approve = اعتمد التعليق

## One class: activities, sharing, roster
class-code-lead = رمز الصف لتسجيل الدخول بالصور:
class-activities = الأنشطة
class-no-activities = لا توجد أنشطة بعد.
class-post-activity = انشر نشاطًا جديدًا
class-activity-prompt = ماذا على الطلاب أن يفعلوا؟
class-activity-due = موعد التسليم (اختياري)
class-activity-files = ملفات أمثلة (اختياري)
class-activity-post = انشر النشاط
class-sharing = المشاركة
class-require-approval = الأعمال والتعليقات الجديدة تنتظر معلّمًا قبل أن يراها زملاء الصف والأسر
class-comments-allowed = يمكن لزملاء الصف التعليق على الأعمال المشتركة
class-family-sharing = ترى الأسر الأعمال المشتركة معها
class-hold-family-comments = تعليقات الأسر تنتظر معلّمًا
class-save-sharing = احفظ إعدادات المشاركة
class-teachers = المعلّمون
class-no-teachers = لا يوجد معلّم بعد. يمكن للمسؤول إضافة معلّم أدناه.
class-students = الطلاب
class-no-students = لا يوجد طلاب بعد. أضفهم أدناه أو استورد قائمة.
class-students-in = طلاب { $class }
class-signs-in-with = يدخل باستخدام
class-actions = إجراءات
class-credentials-pictures = الصور
class-credentials-card = بطاقة QR
class-credentials-password = كلمة المرور
class-credentials-none = لا شيء بعد: اختر صورًا أو اطبع بطاقة
class-student-work = الأعمال
class-student-signin = طرق الدخول
class-print-cards = اطبع بطاقات QR للدخول
class-print-cards-hint = الطباعة تصنع بطاقات جديدة: تتوقف البطاقات السابقة ويُسجَّل خروج طلاب الصف.
class-family-sheets = أوراق دعوة الأسر
class-family-sheets-hint = : ورقة لكل طالب، لتنضم الأسر عبر شبكة Wi-Fi المدرسة.
class-add-student = أضف طالبًا
class-student-name = اسم الطالب
class-add-student-button = أضف الطالب
class-add-existing = أضف شخصًا لديه حساب
class-their-username = اسم المستخدم الخاص به
class-as = بصفة
class-add-to-class = أضف إلى الصف
class-import = استورد قائمة
class-import-lead-before = ملف CSV فيه طالب في كل سطر:
class-import-lead-after = . إذا كان أي سطر خاطئًا، لا يُستورد شيء وتُعرض كل مشكلة.
class-import-line = السطر { $line }:
class-roster-file = ملف القائمة (CSV)
class-imported = { $count ->
    [zero] لم يُستورد أي طالب ({ $new } جديد).
    [one] استُورد طالب واحد ({ $new } جديد).
    [two] استُورد طالبان ({ $new } جديد).
    [few] استُورد { $count } طلاب ({ $new } جديد).
   *[other] استُورد { $count } طالبًا ({ $new } جديد).
}

## One piece of work
artifact-back-class = الصف
artifact-by = بقلم { $names }
artifact-who-can-see = من يستطيع رؤيته
artifact-waiting = بانتظار معلّم
artifact-reviewed-not-shared = اطّلع عليه معلّمك: اقرأ الملاحظات. لم يُشارَك مع الصف بعد.
artifact-approved = معتمد
artifact-from-home = من البيت
artifact-reflection = تأمّل
artifact-conflict = كُتبت نسخة أخرى من تأمّلك على جهاز آخر في الوقت نفسه. ها هي، حتى لا يضيع شيء:
artifact-teacher = المعلّم
artifact-withdraw-approval = اسحب الاعتماد
artifact-approve = اعتمد للمشاركة
artifact-feedback-heading = الملاحظات والتعليقات
artifact-nothing-yet = لا شيء بعد.
artifact-teacher-feedback = ملاحظات المعلّم
artifact-approve-comment = اعتمد التعليق
artifact-your-feedback = ملاحظاتك
artifact-your-comment = تعليقك
artifact-record = سجّل ملاحظات صوتية
artifact-send-feedback = أرسل الملاحظات
artifact-send-comment = أرسل التعليق
artifact-versions = النسخ
artifact-file-on-its-way = (في الطريق من جهاز آخر)
artifact-new-version = أضف نسخة جديدة
artifact-what-changed = ما الذي تغيّر؟
artifact-add-version = أضف النسخة
artifact-change-details = غيّر التفاصيل
artifact-delete = احذف هذا العمل
artifact-delete-hint = يُحذف من كل الأجهزة. لا يمكن التراجع عن ذلك.

## Other boxes (pairing and sync)
peers-lead = أجهزة folio المقترنة تتشارك أعمال مدارسها عبر شبكة المدرسة من تلقاء نفسها: كل بضع دقائق، وبعد أي تغيير بقليل. يحتاج الاقتران إلى مسؤول على الجهازين.
peers-this-box = هذا الجهاز
peers-box-id = معرّف الجهاز
peers-in-full = كاملًا:
peers-reach-at = تصل إليه الأجهزة الأخرى على
peers-port = المنفذ { $port }
peers-port-off = لا تستطيع الوصول إلى هذا الجهاز: منفذه الخاص بها مغلق
peers-paired = الأجهزة المقترنة
peers-none = هذا الجهاز غير مقترن بأي جهاز آخر بعد. ادعُ جهازًا أو انضم إلى جهاز أدناه.
peers-caption = الأجهزة التي يتزامن معها هذا الجهاز
peers-col-address = العنوان
peers-col-shares = يشارك
peers-col-last-sync = آخر مزامنة
peers-col-changes = التغييرات المرسلة / المستلمة
peers-col-data = البيانات المرسلة / المستلمة
peers-col-files = الملفات المرسلة / المستلمة
peers-col-pending = ملفات في الطريق
peers-unknown = غير معروف
peers-never = أبدًا
peers-scope-whole = كل المدارس، كاملة
peers-scope-classes = { $classes ->
    [one] صف واحد
    [two] صفّان
    [few] { $classes } صفوف
   *[other] { $classes } صفًّا
} من { $schools ->
    [one] مدرسة واحدة
    [two] مدرستين
    [few] { $schools } مدارس
   *[other] { $schools } مدرسة
}
peers-sync-now = زامن الآن
peers-unpair-confirm = نعم، أوقف المشاركة مع الجهاز { $box }
peers-unpair = فك الاقتران
peers-invite = ادعُ جهازًا
peers-invitation-made = أدخل هذه الدعوة على الجهاز الآخر (في صفحته «الأجهزة الأخرى»، «انضم إلى جهاز»)، أو امسح الرمز هناك. تعمل مرة واحدة، حتى { $until }. يستطيع من يملكها أن يقرن جهازًا بهذا الجهاز: احتفظ بها لنفسك.
peers-invitation = الدعوة
peers-invite-lead = أنشئ دعوة هنا، ثم أدخلها على الجهاز الآخر. بعدها يتشارك الجهازان كل المدارس التي يحملانها.
peers-join = انضم إلى جهاز
peers-join-label = الدعوة من الجهاز الآخر
peers-join-button = انضم
peers-join-placeholder = folio1:…
notice-peer-joined = تم الاقتران. يتزامن الجهازان من تلقاء نفسيهما من الآن.
notice-peer-synced = تمت المزامنة.
notice-peer-unpaired = فُكّ الاقتران. يُرفض ذلك الجهاز من الآن، ولم يعد هذا الجهاز يتصل به.

## الملخص الأسبوعي للعائلات (family_digest.html, family_digest_section.html)
title-family-digest = الملخص الأسبوعي
digest-page-heading = { $name }: الملخص الأسبوعي
digest-class-heading = الملخصات الأسبوعية: { $class }
digest-print-hint = اطبع هذه الصفحة لتأخذها إلى البيت: يبدأ ملخص كل طالب في ورقة جديدة.
digest-previous-week = الأسبوع السابق
digest-next-week = الأسبوع التالي
digest-heading = أسبوع { $name } في folio
digest-week = من { $from } إلى { $to }
digest-sharing-off = مشاركة الأعمال مع العائلات متوقفة في هذا الصف: لا ترى العائلات شيئًا من أعماله، فلا شيء للطباعة.
digest-nothing = لم يُشارَك شيء مع العائلة هذا الأسبوع.
digest-reflection = تأمّل { $name }:
digest-feedback-from = ملاحظة من { $name }:
digest-voice = (ملاحظة صوتية: استمع إليها في folio)
digest-foot = طُبع من folio، ملف أعمال المدرسة الخاص. لا يرى هذه الأعمال إلا المدرسة وعائلتك.
class-family-digests = الملخصات الأسبوعية للعائلات
class-family-digests-hint = اطبع أعمال هذا الأسبوع المشاركة مع العائلات، ورقة لكل طالب، كلٌّ بلغة عائلته.
home-family-digest = هذا الأسبوع على الورق
skills-lead = المهارات والمعايير والكفايات التي يُوسم بها العمل ويُقيَّم عليها. يختارها الطلاب عند نشر أعمالهم، ويقيّمها المعلمون أثناء المراجعة.
skills-none = لا توجد مهارات بعد. أضفها واحدة تلو الأخرى أو استورد قائمة أدناه.
skills-no-group = مهارات أخرى
skills-col-code = الرمز
skills-col-name = الاسم
skills-retired = موقوفة
skills-retire = إيقاف
skills-restore = عرضها من جديد
skills-add = إضافة مهارة
skills-group-optional = المجموعة (اختياري)
skills-add-button = إضافة المهارة
skills-import = استيراد المهارات
skills-import-lead = حزمة CASE 1.1 (ملف ‎.json من ناشر المعايير) أو ملف CSV بالأعمدة code وname وgroup. استيراد الملف نفسه مرة أخرى يحدّث المهارات بدل تكرارها.
skills-import-file = حزمة CASE أو ملف CSV
skills-levels = المستويات
skills-default-level = { $level ->
    [beginning] مبتدئ
    [developing] نامٍ
    [secure] متمكّن
   *[extending] متقدّم
}
skills-levels-edit = أسماء المستويات من الأدنى إلى الأعلى، واحد في كل سطر (من 2 إلى 10)
skills-levels-save = حفظ المستويات
skills-levels-reset = العودة إلى المستويات الافتراضية
skills-levels-admins = يختار المسؤولون مستويات المدرسة.
rating-heading = المهارات
rating-legend = قيّم مهارات هذه النسخة
rating-self-legend = كيف كان أداؤك؟ قيّم نفسك
rating-no-skills = لم يُوسم هذا العمل بأي مهارة بعد.
rating-none = بلا تقييم
rating-teacher-said = معلّمك:
rating-student-said = تقييم الطالب لنفسه:
rating-save = حفظ التقييمات
class-family-sees-ratings = ترى الأسر تقييمات المعلمين لعمل طفلها

## Families: adding from home
title-family-add = أضف من البيت
family-add-heading = أضف إلى ملف { $name }
family-add-lead = صورة أو فيديو أو تسجيل أو ملاحظة من البيت. تذهب إلى ملف { $name } وتبقى خاصة حتى يراها المعلم. من دون شبكة Wi-Fi المدرسة تنتظر على هذا الهاتف وتُرسل عند عودتكم.
family-add-link = أضف شيئًا من البيت لـ { $name }
notice-from-home-sent = أُضيف. سيراه المعلم أولًا.
family-add-note = بضع كلمات عنه (لطفلك وللمعلم)
family-add-send = أضفه

## The new-work form's skills and group work; an activity's skills
work-form-skills = ماذا تدرّبت عليه؟
work-form-made-with = هل صنعته مع زملائك؟
work-form-made-with-hint = ضع علامة على الزملاء الذين صنعوه معك. سيذهب إلى ملفاتهم أيضًا.
activity-skills = مهارات للتدرّب عليها
class-activity-skills = المهارات التي يتدرّب عليها (اختياري)

## Picture sign-in for a whole class, and its printed cards
class-pictures-give = الدخول بالصور للصف كله
class-pictures-give-hint = يحصل كل طالب ليست له صور على ثلاث صور، وتطبع أنت بطاقاتهم. من له صور يحتفظ بها.
class-pictures-everyone = صور جديدة للجميع
class-pictures-everyone-warning = يحصل كل طالب في الصف على صور جديدة. تتوقف صورهم القديمة وبطاقات QR عن العمل، ويُسجَّل خروجهم.
class-pictures-everyone-confirm = نعم، غيّر صور جميع الطلاب
class-pictures-everyone-button = أعطِ الجميع صورًا جديدة
picture-cards-title = بطاقات الصور لصف { $class }
picture-cards-heading = بطاقات الصور: { $class }
picture-cards-instructions = { $count ->
    [zero] لم يحصل أي طالب على صور جديدة.
    [one] حصل طالب واحد على صور جديدة.
    [two] حصل طالبان على صور جديدة.
    [few] حصل { $count } طلاب على صور جديدة.
   *[other] حصل { $count } طالبًا على صور جديدة.
} اطبع هذه الصفحة الآن: لا تظهر الصور إلا هذه المرة. قصّ البطاقات وأعطِ كل طفل بطاقته.
picture-cards-none-new = كان لكل الطلاب صور من قبل: لم يتغير شيء، ولا بطاقات جديدة للطباعة. لتغييرها اختر «صور جديدة للجميع» في صفحة الصف.
picture-cards-kept = { $count ->
    [zero] لم يحتفظ أي طالب بصوره:
    [one] احتفظ طالب واحد بصوره:
    [two] احتفظ طالبان بصورهما:
    [few] احتفظ { $count } طلاب بصورهم:
   *[other] احتفظ { $count } طالبًا بصورهم:
}
picture-cards-class-code = رمز الصف:

## تقرير المدرسة والصفحة الرئيسية لقيادة المدرسة
title-school-report = تقرير المدرسة
nav-reports = تقرير المدرسة
home-leader-lead = أنت تتابع عمل { $school }: تقارير كل صف، والأعمال التي يشاركها الطلاب مع صفهم أو مع أسرهم.
home-school-report = تقرير المدرسة
home-school-report-hint = الأعمال المنشورة والملاحظات ومستويات المهارات لكل صف وكل أسبوع.
school-report-lead = لكل صف ولكل أسبوع، من { $from } إلى { $to }.
school-report-counts-only = يرى المسؤولون الأعداد فقط: الصفوف مرقّمة ولا تظهر أي أسماء.
school-report-from = من
school-report-to = إلى
school-report-show = اعرض
school-report-weeks-hint = تبدأ الأسابيع يوم الاثنين (بالتوقيت العالمي). زمن الاستجابة هو الوسيط بين النشر وأول ملاحظة من المعلّم.
school-report-no-classes = لا توجد صفوف في المدرسة بعد.
school-report-class-number = الصف { $number }
school-report-nothing = لم يُنشر أو يُعلَّق على أو يُقيَّم أي شيء في هذه الأسابيع.
school-report-caption = أسابيع { $class }
school-report-week = أسبوع
school-report-posts = الأعمال المنشورة
school-report-students = الطلاب الذين نشروا
school-report-feedback = الملاحظات المقدَّمة
school-report-turnaround = زمن الاستجابة
school-report-level = بتقييم «{ $level }»
school-report-hours = { $hours } ساعة
school-report-total = كل هذه الأسابيع
title-activity-edit = تعديل النشاط
class-activity-edit = تعديل «{ $title }»
activity-edit-save = حفظ التغييرات
