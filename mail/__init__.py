"""Mail handling for Atención: inbound parsing and classification, outbound composition and sending."""
