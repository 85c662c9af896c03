# SPDX-License-Identifier: GPL-2.0
# Guest side of the kunit suite. KUnit ran every built-in test suite at boot, before /init
# (kunit.enable=1, see scripts/test.sh), and printed the KTAP on the console, which the host
# parses (tests/vm/check-kunit.sh). Here: KUnit must have registered its suites, and each
# suite's KTAP as debugfs keeps it is saved for reading (share/out/kunit/SUITE.ktap).
d=/sys/kernel/debug/kunit
if [ ! -d $d ] || [ -z "$(ls $d)" ]; then
    echo "kunit.sh: $d is missing or empty: KUnit is not built in or did not run"
    exit 1
fi
mkdir -p /mnt/out/kunit
n=0
for s in $d/*/; do
    s=${s%/}
    cat "$s/results" > "/mnt/out/kunit/${s##*/}.ktap"
    n=$((n + 1))
done
echo "kunit.sh: $n KUnit suites ran at boot: $(ls $d | tr '\n' ' ')"
