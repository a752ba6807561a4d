# Polski. Draft translation, not yet checked by a fluent speaker in a clinic.

## The questionnaire page

survey-title-fallback = Kilka pytań o Twoją wizytę
survey-intro = Pomyśl o swojej ostatniej wizycie. Nie ma dobrych ani złych odpowiedzi.
survey-problems = Niektóre odpowiedzi wymagają poprawy:
survey-send = Wyślij moje odpowiedzi
survey-footer = Twoje odpowiedzi trafiają do Twojej poradni. Pomagają dopasować spotkania do Ciebie.
survey-optional = (opcjonalnie)
survey-yes = Tak
survey-no = Nie
switch-to-easy = Wersja łatwa w czytaniu: jedno pytanie naraz
switch-to-full = Pokaż wszystkie pytania na jednej stronie
language-label = Język
language-change = Zmień język
problem-scale = Wybierz liczbę w tym pytaniu.
problem-yes-no = Wybierz tak lub nie.
problem-choice = Wybierz jedną z odpowiedzi.
problem-text = Skróć swoją odpowiedź.
help-line-default = Twój komentarz nie jest czytany od razu. Jeśli potrzebujesz pomocy teraz, skontaktuj się ze swoją poradnią, lekarzem rodzinnym lub NHS 111, a w nagłym wypadku zadzwoń pod 999.

## Easy-read: one question at a time

easy-progress = Pytanie { $step } z { $total }
easy-skip = Możesz pominąć to pytanie.
easy-next = Dalej
easy-back = Wstecz
easy-review-title = Sprawdź i wyślij
easy-review-done =
    { $count ->
        [one] Pytanie gotowe
        [few] Gotowe { $count } pytania
        [many] Gotowe { $count } pytań
       *[other] Gotowe { $count } pytania
    }
easy-review-heading = Gotowe do wysłania?
easy-review-hint = Możesz wrócić, aby zmienić odpowiedź.

## Pages for a link that is not open

unknown-title = Nie znaleźliśmy tej ankiety
unknown-check = Link może być niepełny. Sprawdź, czy skopiowano cały adres z e-maila.
unknown-contact = Jeśli masz pytania, skontaktuj się ze swoją poradnią.
answered-title = Mamy już Twoje odpowiedzi
answered-thanks = Dziękujemy. Otrzymaliśmy Twoje odpowiedzi dotyczące tej wizyty.
close-page = Możesz zamknąć tę stronę.
expired-title = Ta ankieta jest już zamknięta
expired-fine = Czas na odpowiedź dotyczącą tej wizyty minął i nic się nie stało.
expired-next = Po następnej wizycie otrzymasz nowy link.
cancelled-title = Odpowiedzi dotyczące tej wizyty nie są potrzebne
cancelled-line = Ta ankieta nie jest już potrzebna. Możesz zamknąć tę stronę.
stopped-title = Te e-maile zostały wyłączone
stopped-closed = Poprosiłeś(-aś), aby nie otrzymywać ankiet, więc ta ankieta jest zamknięta.
stopped-change = Jeśli zmienisz zdanie, powiedz o tym swojej poradni.
thanks-title = Dziękujemy
thanks-sent = Twoje odpowiedzi zostały wysłane do Twojej poradni.
thanks-done = Nie musisz nic więcej robić. Możesz zamknąć tę stronę.

## Stopping the emails

unsubscribe-title = Wyłącz e-maile z ankietami
unsubscribe-question = Wyłączyć e-maile z ankietami?
unsubscribe-explain = Nie będziesz już otrzymywać krótkich ankiet po wizytach. Twoja opieka się nie zmieni.
unsubscribe-confirm = Tak, wyłącz te e-maile
unsubscribe-keep = Jeśli chcesz je nadal otrzymywać, po prostu zamknij tę stronę.
unsubscribe-done = Nie będziesz już otrzymywać od nas ankiet.
unsubscribe-already = Nie będziesz otrzymywać od nas ankiet. Jeśli zmienisz zdanie, powiedz o tym swojej poradni.
link-unknown-title = Nie znaleźliśmy tego linku
link-unknown-line = Sprawdź, czy skopiowano cały adres z e-maila, albo skontaktuj się ze swoją poradnią.

## The questionnaire email and its reminder

email-subject = Dwie minuty opinii dla { $clinic }
email-subject-reminder = Przypomnienie: dwie minuty opinii dla { $clinic }
email-greeting = Dzień dobry,
email-opening = { $clinic } prosi o dwie minuty opinii o Twojej ostatniej wizycie.
email-opening-reminder = Uprzejme przypomnienie: { $clinic } prosi o dwie minuty opinii o Twojej ostatniej wizycie.
email-why = Twoje odpowiedzi pomagają dopasować spotkania do Ciebie. Nie ma dobrych ani złych odpowiedzi.
email-answer-here = Odpowiedz tutaj (prywatny link tylko dla Ciebie):
email-button = Odpowiedz na pytania
email-private = To prywatny link tylko dla Ciebie. Działa do { $until }.
email-date-pattern = %A, %-d %B, %H:%M
email-works-until = Link działa do { $until }.
email-stop-text = Aby nie otrzymywać tych e-maili, otwórz:
email-not-now = To nie najlepszy moment?
email-stop-link = Nie chcę otrzymywać tych e-maili
