# Español. Draft translation, not yet checked by a fluent speaker in a clinic.

## The questionnaire page

survey-title-fallback = Unas preguntas sobre su cita
survey-intro = Piense en su cita más reciente. No hay respuestas correctas ni incorrectas.
survey-problems = Algunas respuestas necesitan otra revisión:
survey-send = Enviar mis respuestas
survey-footer = Sus respuestas van a su clínica. Ayudan a que sus sesiones sean adecuadas para usted.
survey-optional = (opcional)
survey-yes = Sí
survey-no = No
switch-to-easy = Versión de lectura fácil: una pregunta cada vez
switch-to-full = Ver todas las preguntas en una página
language-label = Idioma
language-change = Cambiar idioma
problem-scale = Elija un número para esta pregunta.
problem-yes-no = Elija sí o no.
problem-choice = Elija una de las opciones.
problem-text = Acorte su respuesta, por favor.
help-line-default = Su comentario no se lee de inmediato. Si necesita ayuda ahora, contacte con su clínica, su médico de cabecera o el NHS 111, o llame al 999 en una emergencia.

## Easy-read: one question at a time

easy-progress = Pregunta { $step } de { $total }
easy-skip = Puede saltarse esta pregunta.
easy-next = Siguiente
easy-back = Atrás
easy-review-title = Revisar y enviar
easy-review-done =
    { $count ->
        [one] La pregunta está hecha
       *[other] Las { $count } preguntas están hechas
    }
easy-review-heading = ¿Listo para enviar?
easy-review-hint = Puede volver atrás para cambiar una respuesta.

## Pages for a link that is not open

unknown-title = No hemos encontrado este cuestionario
unknown-check = Puede que el enlace esté incompleto. Compruebe que ha copiado toda la dirección de su correo.
unknown-contact = Si tiene preguntas, contacte con su clínica.
answered-title = Ya tenemos sus respuestas
answered-thanks = Gracias. Hemos recibido sus respuestas sobre esta cita.
close-page = Puede cerrar esta página.
expired-title = Este cuestionario está cerrado
expired-fine = El plazo para responder sobre esta cita ha pasado, y no pasa nada.
expired-next = Recibirá un enlace nuevo después de su próxima cita.
cancelled-title = No hacen falta respuestas para esta cita
cancelled-line = Este cuestionario ya no es necesario. Puede cerrar esta página.
stopped-title = Ha dejado de recibir estos correos
stopped-closed = Pidió no recibir cuestionarios de opinión, así que este está cerrado.
stopped-change = Si cambia de opinión, dígaselo a su clínica.
thanks-title = Gracias
thanks-sent = Sus respuestas se han enviado a su clínica.
thanks-done = No tiene que hacer nada más. Puede cerrar esta página.

## Stopping the emails

unsubscribe-title = Dejar de recibir correos de opinión
unsubscribe-question = ¿Dejar de recibir correos de opinión?
unsubscribe-explain = Ya no recibirá cuestionarios breves después de sus citas. Su atención no cambia.
unsubscribe-confirm = Sí, dejar de recibir estos correos
unsubscribe-keep = Si prefiere seguir recibiéndolos, simplemente cierre esta página.
unsubscribe-done = Ya no recibirá cuestionarios de opinión nuestros.
unsubscribe-already = No recibirá cuestionarios de opinión nuestros. Si cambia de opinión, dígaselo a su clínica.
link-unknown-title = No hemos encontrado este enlace
link-unknown-line = Compruebe que ha copiado toda la dirección de su correo, o contacte con su clínica.

## The questionnaire email and its reminder

email-subject = Dos minutos de opinión para { $clinic }
email-subject-reminder = Recordatorio: dos minutos de opinión para { $clinic }
email-greeting = Hola:
email-opening = { $clinic } agradecería dos minutos de su opinión sobre su cita reciente.
email-opening-reminder = Un recordatorio amable: { $clinic } agradecería dos minutos de su opinión sobre su cita reciente.
email-why = Sus respuestas ayudan a que sus sesiones sean adecuadas para usted. No hay respuestas correctas ni incorrectas.
email-answer-here = Responda aquí (un enlace privado solo para usted):
email-button = Responder a las preguntas
email-private = Este es un enlace privado solo para usted. Funciona hasta el { $until }.
email-date-pattern = %A %-d de %B, %H:%M
email-works-until = El enlace funciona hasta el { $until }.
email-stop-text = Para dejar de recibir estos correos, abra:
email-not-now = ¿No es buen momento?
email-stop-link = Dejar de recibir estos correos
