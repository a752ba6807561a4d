# What clients read: the questionnaire pages and their emails.
# Every other language file must have every message here (a test checks);
# a message missing at run time falls back to this English one.

## The questionnaire page

survey-title-fallback = A few questions about your appointment
survey-intro = Please think about your most recent appointment. There are no right or wrong answers.
survey-problems = Some answers need another look:
survey-send = Send my answers
survey-footer = Your answers go to your clinic. They help make your sessions right for you.
survey-optional = (optional)
survey-yes = Yes
survey-no = No
switch-to-easy = Easy-read version: one question at a time
switch-to-full = Show all questions on one page
language-label = Language
language-change = Change language
problem-scale = Please choose a number for this question.
problem-yes-no = Please choose yes or no.
problem-choice = Please choose one of the options.
problem-text = Please shorten your answer.
help-line-default = Your comment is not read straight away. If you need help now, contact your clinic, your GP or NHS 111, or call 999 in an emergency.

## Easy-read: one question at a time

easy-progress = Question { $step } of { $total }
easy-skip = You can skip this question.
easy-next = Next
easy-back = Back
easy-review-title = Check and send
easy-review-done =
    { $count ->
        [one] The question is done
       *[other] All { $count } questions done
    }
easy-review-heading = Ready to send?
easy-review-hint = You can go back to change an answer.

## Pages for a link that is not open

unknown-title = We could not find this questionnaire
unknown-check = The link may be incomplete. Please check that you copied the whole address from your email.
unknown-contact = If you have questions, please contact your clinic.
answered-title = We already have your answers
answered-thanks = Thank you. Your answers for this appointment have been received.
close-page = You can close this page.
expired-title = This questionnaire has closed
expired-fine = The time to answer for this appointment has passed, and that is fine.
expired-next = You will receive a new link after your next appointment.
cancelled-title = No answers are needed for this appointment
cancelled-line = This questionnaire is no longer needed. You can close this page.
stopped-title = You have stopped these emails
stopped-closed = You asked not to receive feedback questionnaires, so this one is closed.
stopped-change = If you change your mind, please tell your clinic.
thanks-title = Thank you
thanks-sent = Your answers have been sent to your clinic.
thanks-done = There is nothing else to do. You can close this page.

## Stopping the emails

unsubscribe-title = Stop feedback emails
unsubscribe-question = Stop feedback emails?
unsubscribe-explain = You will no longer receive short questionnaires after your appointments. Your care does not change.
unsubscribe-confirm = Yes, stop these emails
unsubscribe-keep = If you would rather keep receiving them, just close this page.
unsubscribe-done = You will not receive feedback questionnaires from us any more.
unsubscribe-already = You will not receive feedback questionnaires from us. If you change your mind, please tell your clinic.
link-unknown-title = We could not find this link
link-unknown-line = Please check that you copied the whole address from your email, or contact your clinic.

## The questionnaire email and its reminder

email-subject = Two minutes of feedback for { $clinic }
email-subject-reminder = Reminder: two minutes of feedback for { $clinic }
email-greeting = Hello,
email-opening = { $clinic } would value two minutes of feedback on your recent appointment.
email-opening-reminder = A gentle reminder: { $clinic } would value two minutes of feedback on your recent appointment.
email-why = Your answers help make your sessions right for you. There are no right or wrong answers.
email-answer-here = Answer here (a private link just for you):
email-button = Answer the questions
email-private = This is a private link just for you. It works until { $until }.
# When a link stops working, as chrono formats it (strftime).
email-date-pattern = %A %-d %B, %H:%M
email-works-until = The link works until { $until }.
email-stop-text = To stop receiving these emails, open:
email-not-now = Not the right time?
email-stop-link = Stop receiving these emails
