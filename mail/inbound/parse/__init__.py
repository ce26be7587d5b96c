"""Reading one inbound message: bytes in, a frozen `ParsedMessage` out (no database, no network).

`parse_message` is the one entry point. One module per concern:

==============  ==================================================================================
charsets        bytes → text with the charset fallback every decoded value gets
headers         raw header access, RFC 2047 encoded words, message ids, dates
addresses       (display name, address) pairs of address headers; usable addresses
params          content type, charset, disposition, RFC 2231 parameters, sanitised filenames
html            HTML → text (inscriptis), ``cid:`` references
tnef            winmail.dat (tnefparse) and its RTF bodies (compressed-rtf, RTFDE, striprtf)
mime            the MIME walk: bodies, files, attached messages, delivery reports, signatures
body            which body is the message's text (plain, unless the HTML says clearly more)
forwards        inline forwards: the forwarder's words and the forwarded header block
model           ParsedMessage, Attachment, ForwardedMessage, UnparseableMessage
entry           parse_message
==============  ==================================================================================

What a quote or forward marker looks like is defined once, in `mail.inbound.markers`; cutting a
reply down to its new text is `mail.inbound.quotes`.
"""

from mail.inbound.parse.addresses import Address
from mail.inbound.parse.charsets import decode_bytes
from mail.inbound.parse.entry import parse_message
from mail.inbound.parse.forwards import parse_loose_date, split_forward
from mail.inbound.parse.headers import parse_date
from mail.inbound.parse.html import html_to_text
from mail.inbound.parse.model import Attachment, ForwardedMessage, ParsedMessage, UnparseableMessage
from mail.inbound.parse.params import sanitize_filename

__all__ = [
    "Address",
    "Attachment",
    "ForwardedMessage",
    "ParsedMessage",
    "UnparseableMessage",
    "decode_bytes",
    "html_to_text",
    "parse_date",
    "parse_loose_date",
    "parse_message",
    "sanitize_filename",
    "split_forward",
]
