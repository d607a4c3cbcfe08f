#!/bin/sh
# Append to the job summary how this build's numbers compare with main's quick build.
#
# Usage: compare_with_main.sh URL NEW_METRICS SUMMARY
# URL is main's quick metrics.json as the Pages site publishes it (quick/metrics.json beside
# the full report): a pull request builds the quick profile, so like is compared with like.
# `fmnist-report diff` refuses builds of different protocols and says why; that, too, goes
# into the summary. A site not yet published, or a metrics.json of another schema_version
# than this build's (main published before a change of the schema), is one line, never a
# failed job.
set -u
url="$1"
new="$2"
summary="$3"
cli="${FMNIST_REPORT:-.venv/bin/fmnist-report}"
old="$(mktemp)"
trap 'rm -f "$old"' EXIT
if curl --fail --silent --show-error --location --proto '=https' --max-time 60 --output "$old" "$url"; then
    {
        echo "### Compared with main (quick profile)"
        echo
        if said="$("$cli" diff "$old" "$new" 2>&1)"; then
            printf '%s\n' "$said"
        else
            case "$said" in
                *"this version reads"*)
                    # diff's one line names the downloaded file: name the URL instead.
                    printf 'No comparison with main: %s%s\n' "$url" "${said#"error: $old"}"
                    ;;
                *)
                    printf '%s\n' "$said"
                    ;;
            esac
        fi
    } >> "$summary"
else
    echo "No comparison with main: its quick metrics.json is not published at $url yet." >> "$summary"
fi
