#!/usr/bin/env bash
# Re-extract the messages of the web UI and of engine/ (babel.cfg), merge them into each catalogue, compile.
#   bash scripts/i18n.sh            extract + update + compile; lists what still needs English
#   bash scripts/i18n.sh compile    only compile (after writing translations in the .po)
# New messages arrive in web/translations/en/LC_MESSAGES/messages.po with an empty msgstr:
# write the English there, then run the script again (or with `compile`).
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=.venv/bin/pybabel
DIR=web/translations

if [ "${1:-}" != "compile" ]; then
    "$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k N_ --project "SP4N-LAPOR! Flow" --sort-by-file \
        -o "$DIR/messages.pot" .
    for po in "$DIR"/*/LC_MESSAGES/messages.po; do
        lang=$(basename "$(dirname "$(dirname "$po")")")
        # no fuzzy guesses: a changed message comes back empty, to be translated afresh
        "$PYBABEL" update -i "$DIR/messages.pot" -d "$DIR" -l "$lang" --no-fuzzy-matching --ignore-obsolete
    done
fi
"$PYBABEL" compile -d "$DIR" --statistics
.venv/bin/python - "$DIR" <<'PY'
import pathlib, sys
from babel.messages.pofile import read_po
for po in sorted(pathlib.Path(sys.argv[1]).glob("*/LC_MESSAGES/messages.po")):
    catalog = read_po(po.open("rb"))
    todo = [m for m in catalog if m.id and (m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string))]
    for message in todo:
        context = f" (msgctxt {message.context!r})" if message.context else ""
        print(f"{po}: needs a translation: {message.id!r}{context}")
PY
