# العربية. Draft translation, not yet checked by a fluent speaker in a clinic.

## The questionnaire page

survey-title-fallback = بعض الأسئلة عن موعدك
survey-intro = يُرجى التفكير في موعدك الأخير. لا توجد إجابات صحيحة أو خاطئة.
survey-problems = بعض الإجابات تحتاج إلى مراجعة:
survey-send = أرسل إجاباتي
survey-footer = تذهب إجاباتك إلى عيادتك. وهي تساعد على أن تكون جلساتك مناسبة لك.
survey-optional = (اختياري)
survey-yes = نعم
survey-no = لا
switch-to-easy = نسخة سهلة القراءة: سؤال واحد في كل مرة
switch-to-full = اعرض كل الأسئلة في صفحة واحدة
language-label = اللغة
language-change = غيّر اللغة
problem-scale = يُرجى اختيار رقم لهذا السؤال.
problem-yes-no = يُرجى اختيار نعم أو لا.
problem-choice = يُرجى اختيار أحد الخيارات.
problem-text = يُرجى تقصير إجابتك.
help-line-default = لا يُقرأ تعليقك فورًا. إذا كنت بحاجة إلى مساعدة الآن، فاتصل بعيادتك أو بطبيبك العام أو بخدمة NHS 111، أو اتصل بالرقم 999 في حالة الطوارئ.

## Easy-read: one question at a time

easy-progress = السؤال { $step } من { $total }
easy-skip = يمكنك تخطي هذا السؤال.
easy-next = التالي
easy-back = رجوع
easy-review-title = راجع وأرسل
easy-review-done =
    { $count ->
        [zero] لا توجد أسئلة
        [one] تمت الإجابة عن السؤال
        [two] تمت الإجابة عن السؤالين
        [few] تمت الإجابة عن { $count } أسئلة
       *[other] تمت الإجابة عن { $count } سؤالًا
    }
easy-review-heading = هل أنت مستعد للإرسال؟
easy-review-hint = يمكنك الرجوع لتغيير إجابة.

## Pages for a link that is not open

unknown-title = لم نتمكن من العثور على هذا الاستبيان
unknown-check = قد يكون الرابط غير مكتمل. يُرجى التأكد من نسخ العنوان كاملًا من بريدك الإلكتروني.
unknown-contact = إذا كانت لديك أسئلة، فيُرجى التواصل مع عيادتك.
answered-title = لقد وصلتنا إجاباتك بالفعل
answered-thanks = شكرًا لك. وصلتنا إجاباتك عن هذا الموعد.
close-page = يمكنك إغلاق هذه الصفحة.
expired-title = أُغلق هذا الاستبيان
expired-fine = انتهى وقت الإجابة عن هذا الموعد، ولا بأس في ذلك.
expired-next = ستصلك رسالة برابط جديد بعد موعدك القادم.
cancelled-title = لا حاجة إلى إجابات عن هذا الموعد
cancelled-line = لم يعد هذا الاستبيان مطلوبًا. يمكنك إغلاق هذه الصفحة.
stopped-title = لقد أوقفت هذه الرسائل
stopped-closed = طلبت عدم تلقي استبيانات الرأي، لذلك أُغلق هذا الاستبيان.
stopped-change = إذا غيّرت رأيك، فيُرجى إخبار عيادتك.
thanks-title = شكرًا لك
thanks-sent = أُرسلت إجاباتك إلى عيادتك.
thanks-done = لا يلزمك فعل أي شيء آخر. يمكنك إغلاق هذه الصفحة.

## Stopping the emails

unsubscribe-title = إيقاف رسائل استبيان الرأي
unsubscribe-question = هل تريد إيقاف رسائل استبيان الرأي؟
unsubscribe-explain = لن تصلك بعد الآن استبيانات قصيرة بعد مواعيدك. لن تتغير رعايتك.
unsubscribe-confirm = نعم، أوقف هذه الرسائل
unsubscribe-keep = إذا كنت تفضّل الاستمرار في تلقيها، فأغلق هذه الصفحة فقط.
unsubscribe-done = لن تصلك منا استبيانات الرأي بعد الآن.
unsubscribe-already = لن تصلك منا استبيانات الرأي. إذا غيّرت رأيك، فيُرجى إخبار عيادتك.
link-unknown-title = لم نتمكن من العثور على هذا الرابط
link-unknown-line = يُرجى التأكد من نسخ العنوان كاملًا من بريدك الإلكتروني، أو التواصل مع عيادتك.

## The questionnaire email and its reminder

email-subject = دقيقتان لإبداء رأيك في { $clinic }
email-subject-reminder = تذكير: دقيقتان لإبداء رأيك في { $clinic }
email-greeting = مرحبًا،
email-opening = يسعد { $clinic } أن تخصص دقيقتين لإبداء رأيك في موعدك الأخير.
email-opening-reminder = تذكير لطيف: يسعد { $clinic } أن تخصص دقيقتين لإبداء رأيك في موعدك الأخير.
email-why = تساعد إجاباتك على أن تكون جلساتك مناسبة لك. لا توجد إجابات صحيحة أو خاطئة.
email-answer-here = أجب هنا (رابط خاص بك وحدك):
email-button = أجب عن الأسئلة
email-private = هذا رابط خاص بك وحدك. يعمل حتى { $until }.
email-date-pattern = %A %-d %B، %H:%M
email-works-until = يعمل الرابط حتى { $until }.
email-stop-text = لإيقاف هذه الرسائل، افتح:
email-not-now = ليس الوقت مناسبًا؟
email-stop-link = أوقف هذه الرسائل
