# Shared by scripts/demo (sourced): how the demo prints what it does.
# tests/scripts/test_demo_lib.c checks both.

# Bold step titles only on a terminal, and never with NO_COLOR set
# (https://no-color.org): a log file or a pipe gets plain text.
if [[ -t 1 && -z ${NO_COLOR:-} && ${TERM:-dumb} != dumb ]]; then
	bold=$'\033[1m' plain=$'\033[0m'
else
	bold= plain=
fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
# A command as it would be pasted into a shell: an argument with characters
# the shell treats specially (an invite link's '&' and '?', a glob's '[') in
# single quotes.
shell_words() {
	local a out=
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then out+=" $a"; else out+=" '${a//\'/\'\\\'\'}'"; fi
	done
	printf '%s' "${out# }"
}
