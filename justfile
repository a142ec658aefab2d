# Developer shortcuts. `test` and `lint` mirror what .ci/run does.

# Run the whole test suite (same command as README.md and .ci/run).
test:
    cargo test --workspace

# Formatting check and clippy with warnings as errors.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# The full CI script (as root: installs OpenSSH, creates the seashell-test user).
ci:
    .ci/run

# Conformance suite only (the interop matrix included; OpenSSH 10 from /opt/openssh10,
# where .ci/run unpacks it, unless SEASHELL_OPENSSH10 says otherwise).
conformance:
    SEASHELL_OPENSSH10="${SEASHELL_OPENSSH10:-/opt/openssh10}" cargo test -p seashell-conformance

# The interop matrix alone; arguments filter or list cases (`just matrix client-kex-`).
matrix *args:
    SEASHELL_OPENSSH10="${SEASHELL_OPENSSH10:-/opt/openssh10}" cargo test -p seashell-conformance --test matrix -- {{args}}

# Packet-layer benchmarks.
bench:
    cargo bench -p seashell-bench --bench packet

# Every KEX and cipher/MAC against its raw primitive, as markdown ratio tables; arguments go
# to algo-ratio (e.g. --rounds 1 --millis 20 for a smoke run, --only kex, --filter ctr).
bench-algos *args:
    cargo run --release -p seashell-bench --bin algo-ratio -- {{args}}

# Compare stream throughput; arguments go to the stream-compare binary.
stream-compare *args:
    cargo run --release -p seashell-bench --bin stream-compare -- {{args}}

# Placeholder demo: show the CLI's help.
demo:
    cargo run -p seashell-cli -- --help

# Short fuzz run of every target (cargo-fuzz on stable: no sanitizer).
fuzz-smoke seconds="10":
    cd fuzz && for t in $(cargo fuzz list); do cargo fuzz run -s none $t -- -max_total_time={{seconds}} || exit 1; done

# Long fuzz run of one target.
fuzz target seconds="600":
    cd fuzz && cargo fuzz run -s none {{target}} -- -max_total_time={{seconds}}

# Concurrency soak: 32 channels x 32 MiB on one connection, on every adapter.
stress:
    SEASHELL_ASYNC_STRESS=1 SEASHELL_BLOCKING_STRESS=1 cargo test --release -p seashell-conformance --test async_adapters --test blocking_concurrency

# Local-forward throughput: `seashell -L` against `ssh -L` through one private sshd.
forward-compare *args:
    cargo build --release -p seashell-cli
    cargo run --release -p seashell-bench --bin forward-compare -- {{args}}

# SFTP get and put of one MIB-MiB file at each round trip in RTTS (ms, through a delaying relay
# on loopback; 0 = direct): OpenSSH's sftp against sshd (baseline) and against seashell serve,
# and seashell sftp against sshd. Markdown table with MB/s, ratios and CPU s/GiB. Needs 2 x MIB
# of space in $TMPDIR. Arguments after the first two go to sftp-compare (e.g. --rounds 3).
sftp-bench mib="512" rtts="0 50" *args:
    cargo build --release -p seashell-cli -p seashell-bench
    cargo run --release -p seashell-bench --bin sftp-compare -- --mib {{mib}} --rtt-ms "{{rtts}}" {{args}}

# Command latency: exec -> exit-status in seashell serve against a private sshd (same shell).
exec-latency runs="50":
    SEASHELL_LATENCY_RUNS={{runs}} cargo test --release -p seashell-conformance --test serve_exec_latency -- --nocapture

# 2,000 concurrent authenticated connections on one tokio server; RSS per idle connection.
# The server's gate is sized for the load (--max-startups, --per-source-penalties); any
# refusal fails the run. 10,000: `just conn-scale --connections 10000 --parallel 64`.
conn-scale *args:
    cargo run --release -p seashell-bench --bin conn-scale -- {{args}}

# 100,000 handshakes (login, exec, disconnect) against one tokio server; its VmRSS must stay
# flat after warm-up (≈80 s on 2 cores). Not part of CI. Options: --handshakes N --parallel P.
handshake-soak *args:
    cargo run --release -p seashell-bench --bin handshake-soak -- {{args}}

# Rekey soak: 2 GiB each way with a 16 MiB rekey limit, against OpenSSH and our server.
rekey-soak:
    SEASHELL_REKEY_SOAK=1 cargo test --release -p seashell-conformance --test rekey -- --nocapture

# SFTP interop at the issue's size: a tree of 1,000 files in nested directories plus a 512 MiB
# file, byte-exact with modes and times kept by -p: our client against sshd's sftp-server and
# over a pipe to the sftp-server binary; OpenSSH sftp/scp, paramiko and asyncssh against
# seashell serve. Release build; several minutes.
sftp-interop:
    SEASHELL_SFTP_BIG=1 cargo test --release -p seashell-conformance --test sftp_client --test sftp_client_async --test sftp_serve -- --test-threads 2
