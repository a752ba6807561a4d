# اردو. Draft translation, not yet checked by a fluent speaker in a clinic.

## The questionnaire page

survey-title-fallback = آپ کی ملاقات کے بارے میں چند سوالات
survey-intro = براہِ کرم اپنی حالیہ ملاقات کے بارے میں سوچیں۔ کوئی جواب صحیح یا غلط نہیں۔
survey-problems = کچھ جوابات کو دوبارہ دیکھنے کی ضرورت ہے:
survey-send = میرے جوابات بھیجیں
survey-footer = آپ کے جوابات آپ کے کلینک کو جاتے ہیں۔ ان سے آپ کی نشستیں آپ کے لیے بہتر بنتی ہیں۔
survey-optional = (اختیاری)
survey-yes = ہاں
survey-no = نہیں
switch-to-easy = آسان ورژن: ایک وقت میں ایک سوال
switch-to-full = تمام سوالات ایک صفحے پر دکھائیں
language-label = زبان
language-change = زبان تبدیل کریں
problem-scale = براہِ کرم اس سوال کے لیے ایک نمبر چنیں۔
problem-yes-no = براہِ کرم ہاں یا نہیں چنیں۔
problem-choice = براہِ کرم کوئی ایک انتخاب چنیں۔
problem-text = براہِ کرم اپنا جواب مختصر کریں۔
help-line-default = آپ کا تبصرہ فوراً نہیں پڑھا جاتا۔ اگر آپ کو ابھی مدد چاہیے تو اپنے کلینک، اپنے جی پی یا NHS 111 سے رابطہ کریں، یا ہنگامی صورت میں 999 پر کال کریں۔

## Easy-read: one question at a time

easy-progress = سوال { $step } از { $total }
easy-skip = آپ یہ سوال چھوڑ سکتے ہیں۔
easy-next = اگلا
easy-back = واپس
easy-review-title = جانچیں اور بھیجیں
easy-review-done =
    { $count ->
        [one] سوال مکمل ہو گیا
       *[other] تمام { $count } سوالات مکمل ہو گئے
    }
easy-review-heading = بھیجنے کے لیے تیار ہیں؟
easy-review-hint = آپ جواب بدلنے کے لیے واپس جا سکتے ہیں۔

## Pages for a link that is not open

unknown-title = ہمیں یہ سوالنامہ نہیں ملا
unknown-check = ہو سکتا ہے لنک نامکمل ہو۔ براہِ کرم دیکھیں کہ آپ نے ای میل سے پورا پتہ کاپی کیا ہے۔
unknown-contact = اگر آپ کے کوئی سوالات ہیں تو براہِ کرم اپنے کلینک سے رابطہ کریں۔
answered-title = ہمیں آپ کے جوابات پہلے ہی مل چکے ہیں
answered-thanks = شکریہ۔ اس ملاقات کے بارے میں آپ کے جوابات ہمیں مل گئے ہیں۔
close-page = آپ یہ صفحہ بند کر سکتے ہیں۔
expired-title = یہ سوالنامہ بند ہو چکا ہے
expired-fine = اس ملاقات کے بارے میں جواب دینے کا وقت گزر گیا ہے، اور یہ ٹھیک ہے۔
expired-next = اپنی اگلی ملاقات کے بعد آپ کو نیا لنک ملے گا۔
cancelled-title = اس ملاقات کے لیے جوابات کی ضرورت نہیں
cancelled-line = اب اس سوالنامے کی ضرورت نہیں۔ آپ یہ صفحہ بند کر سکتے ہیں۔
stopped-title = آپ نے یہ ای میلز بند کر دی ہیں
stopped-closed = آپ نے رائے کے سوالنامے نہ بھیجنے کو کہا تھا، اس لیے یہ سوالنامہ بند ہے۔
stopped-change = اگر آپ اپنا ارادہ بدلیں تو براہِ کرم اپنے کلینک کو بتائیں۔
thanks-title = شکریہ
thanks-sent = آپ کے جوابات آپ کے کلینک کو بھیج دیے گئے ہیں۔
thanks-done = مزید کچھ کرنے کی ضرورت نہیں۔ آپ یہ صفحہ بند کر سکتے ہیں۔

## Stopping the emails

unsubscribe-title = رائے کی ای میلز بند کریں
unsubscribe-question = رائے کی ای میلز بند کرنی ہیں؟
unsubscribe-explain = آپ کو اپنی ملاقاتوں کے بعد مختصر سوالنامے نہیں ملیں گے۔ آپ کی دیکھ بھال نہیں بدلے گی۔
unsubscribe-confirm = ہاں، یہ ای میلز بند کریں
unsubscribe-keep = اگر آپ انہیں ملتے رہنا پسند کریں تو بس یہ صفحہ بند کر دیں۔
unsubscribe-done = اب آپ کو ہماری طرف سے رائے کے سوالنامے نہیں ملیں گے۔
unsubscribe-already = آپ کو ہماری طرف سے رائے کے سوالنامے نہیں ملیں گے۔ اگر آپ اپنا ارادہ بدلیں تو براہِ کرم اپنے کلینک کو بتائیں۔
link-unknown-title = ہمیں یہ لنک نہیں ملا
link-unknown-line = براہِ کرم دیکھیں کہ آپ نے ای میل سے پورا پتہ کاپی کیا ہے، یا اپنے کلینک سے رابطہ کریں۔

## The questionnaire email and its reminder

email-subject = { $clinic } کے لیے دو منٹ کی رائے
email-subject-reminder = یاددہانی: { $clinic } کے لیے دو منٹ کی رائے
email-greeting = السلام علیکم،
email-opening = { $clinic } آپ کی حالیہ ملاقات کے بارے میں دو منٹ کی رائے کی قدر کرے گا۔
email-opening-reminder = ایک نرم یاددہانی: { $clinic } آپ کی حالیہ ملاقات کے بارے میں دو منٹ کی رائے کی قدر کرے گا۔
email-why = آپ کے جوابات سے آپ کی نشستیں آپ کے لیے بہتر بنتی ہیں۔ کوئی جواب صحیح یا غلط نہیں۔
email-answer-here = یہاں جواب دیں (صرف آپ کے لیے نجی لنک):
email-button = سوالات کے جواب دیں
email-private = یہ صرف آپ کے لیے نجی لنک ہے۔ یہ { $until } تک کام کرے گا۔
email-date-pattern = %A %-d %B، %H:%M
email-works-until = لنک { $until } تک کام کرے گا۔
email-stop-text = یہ ای میلز بند کرنے کے لیے کھولیں:
email-not-now = ابھی مناسب وقت نہیں؟
email-stop-link = یہ ای میلز بند کریں
