# Cymraeg. Draft translation, not yet checked by a fluent speaker in a clinic.

## The questionnaire page

survey-title-fallback = Ychydig o gwestiynau am eich apwyntiad
survey-intro = Meddyliwch am eich apwyntiad diweddaraf. Does dim atebion cywir nac anghywir.
survey-problems = Mae angen edrych eto ar rai atebion:
survey-send = Anfon fy atebion
survey-footer = Mae eich atebion yn mynd i'ch clinig. Maen nhw'n helpu i wneud eich sesiynau'n iawn i chi.
survey-optional = (dewisol)
survey-yes = Ydw
survey-no = Nac ydw
switch-to-easy = Fersiwn hawdd ei ddarllen: un cwestiwn ar y tro
switch-to-full = Dangos pob cwestiwn ar un dudalen
language-label = Iaith
language-change = Newid iaith
problem-scale = Dewiswch rif ar gyfer y cwestiwn hwn.
problem-yes-no = Dewiswch ydw neu nac ydw.
problem-choice = Dewiswch un o'r opsiynau.
problem-text = Gwnewch eich ateb yn fyrrach.
help-line-default = Nid yw eich sylw'n cael ei ddarllen ar unwaith. Os oes angen help arnoch nawr, cysylltwch â'ch clinig, eich meddyg teulu neu GIG 111, neu ffoniwch 999 mewn argyfwng.

## Easy-read: one question at a time

easy-progress = Cwestiwn { $step } o { $total }
easy-skip = Gallwch hepgor y cwestiwn hwn.
easy-next = Nesaf
easy-back = Yn ôl
easy-review-title = Gwirio ac anfon
easy-review-done =
    { $count ->
        [zero] Dim cwestiynau
        [one] Mae'r cwestiwn wedi'i wneud
        [two] Mae'r ddau gwestiwn wedi'u gwneud
       *[other] Mae'r { $count } cwestiwn wedi'u gwneud
    }
easy-review-heading = Barod i anfon?
easy-review-hint = Gallwch fynd yn ôl i newid ateb.

## Pages for a link that is not open

unknown-title = Doedden ni ddim yn gallu dod o hyd i'r holiadur hwn
unknown-check = Efallai nad yw'r ddolen yn gyflawn. Gwiriwch eich bod wedi copïo'r cyfeiriad cyfan o'ch e-bost.
unknown-contact = Os oes gennych gwestiynau, cysylltwch â'ch clinig.
answered-title = Mae gennym eich atebion yn barod
answered-thanks = Diolch. Rydym wedi cael eich atebion ar gyfer yr apwyntiad hwn.
close-page = Gallwch gau'r dudalen hon.
expired-title = Mae'r holiadur hwn wedi cau
expired-fine = Mae'r amser i ateb ar gyfer yr apwyntiad hwn wedi mynd heibio, ac mae hynny'n iawn.
expired-next = Byddwch yn cael dolen newydd ar ôl eich apwyntiad nesaf.
cancelled-title = Does dim angen atebion ar gyfer yr apwyntiad hwn
cancelled-line = Does dim angen yr holiadur hwn mwyach. Gallwch gau'r dudalen hon.
stopped-title = Rydych wedi atal yr e-byst hyn
stopped-closed = Gofynnoch chi am beidio â chael holiaduron adborth, felly mae'r un hwn wedi cau.
stopped-change = Os byddwch yn newid eich meddwl, dywedwch wrth eich clinig.
thanks-title = Diolch
thanks-sent = Mae eich atebion wedi'u hanfon i'ch clinig.
thanks-done = Does dim byd arall i'w wneud. Gallwch gau'r dudalen hon.

## Stopping the emails

unsubscribe-title = Atal e-byst adborth
unsubscribe-question = Atal e-byst adborth?
unsubscribe-explain = Fyddwch chi ddim yn cael holiaduron byr ar ôl eich apwyntiadau mwyach. Dydy eich gofal ddim yn newid.
unsubscribe-confirm = Ydw, ataliwch yr e-byst hyn
unsubscribe-keep = Os byddai'n well gennych barhau i'w cael, caewch y dudalen hon.
unsubscribe-done = Fyddwch chi ddim yn cael holiaduron adborth gennym mwyach.
unsubscribe-already = Fyddwch chi ddim yn cael holiaduron adborth gennym. Os byddwch yn newid eich meddwl, dywedwch wrth eich clinig.
link-unknown-title = Doedden ni ddim yn gallu dod o hyd i'r ddolen hon
link-unknown-line = Gwiriwch eich bod wedi copïo'r cyfeiriad cyfan o'ch e-bost, neu cysylltwch â'ch clinig.

## The questionnaire email and its reminder

email-subject = Dau funud o adborth i { $clinic }
email-subject-reminder = Nodyn atgoffa: dau funud o adborth i { $clinic }
email-greeting = Helo,
email-opening = Byddai { $clinic } yn gwerthfawrogi dau funud o adborth am eich apwyntiad diweddar.
email-opening-reminder = Nodyn atgoffa: byddai { $clinic } yn gwerthfawrogi dau funud o adborth am eich apwyntiad diweddar.
email-why = Mae eich atebion yn helpu i wneud eich sesiynau'n iawn i chi. Does dim atebion cywir nac anghywir.
email-answer-here = Atebwch yma (dolen breifat i chi yn unig):
email-button = Ateb y cwestiynau
email-private = Dolen breifat i chi yn unig yw hon. Mae'n gweithio tan { $until }.
email-date-pattern = %A %-d %B, %H:%M
email-works-until = Mae'r ddolen yn gweithio tan { $until }.
email-stop-text = I beidio â chael yr e-byst hyn, agorwch:
email-not-now = Ddim yn amser da?
email-stop-link = Peidio â chael yr e-byst hyn
