"""Outbound mail: `compose` builds one outbox row's email from its templates and the ticket's
thread; `send` hands it to the SMTP server (aiosmtplib) or writes it as an .eml file; `deliver`
takes claimed rows through both and records each copy's outcome. The workers (`worker/`) call
`deliver`; nothing here knows about the broker."""
