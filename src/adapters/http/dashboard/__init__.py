"""The dashboard of `metadata serve`: server-rendered pages over the gateway, for people.

Read scope required, like the API: a person signs in once with a token (`/ui/login`); a
random session id (never the token) then rides in an HttpOnly, SameSite=Strict cookie
scoped to `/ui`, expiring after 8 hours and ending when the token is revoked
(``sessions``). No script is needed to read a page; a few lines turn every instant into the
viewer's time zone (UTC on hover).

The datasets list (searchable, with each one's last run, last drift and last recon), the
runs page (recent runs of every runtime, with state, duration and a link to their
records), a run's records, and a dataset's page: its schema versions with each diff
(severity coloured), the rows written per run against the usual band (runs outside it
flagged), its latest profile and its recon results with their differing keys.

``read_model`` computes what each page shows from the gateway (values, no HTML);
``markup`` writes the page frame, tables and links (escaping in one place); ``pages``
writes each page from its value, ``sections`` the parts of the dataset page; ``routes``
parses a request, reads its value and answers with its page.
"""
