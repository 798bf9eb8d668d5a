#!/usr/bin/env bash
# The cost of --verify-signatures: one commit's verification (RevisionSignatureVerifier.Verify, the call a sync makes
# between fetch and snapshot) for SSH ed25519/ECDSA/RSA and OpenPGP RSA/EdDSA signatures, and an unsigned commit,
# beside `git verify-commit` on the same commits with the same trust files. Signs with ssh-keygen and gpg.
# Usage: bench/gitsync/signatures.sh            (ITERATIONS=2000)
set -euo pipefail
cd "$(dirname "$0")/../.."
ITERATIONS=${ITERATIONS:-2000}
WORK=$(mktemp -d /tmp/gitsync-signatures.XXXXXX)
export GNUPGHOME=$WORK/gnupg
cleanup() {
    gpgconf --kill all 2>/dev/null || true
    GNUPGHOME=$WORK/verify gpgconf --kill all 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -m 700 "$GNUPGHOME" "$WORK/verify" "$WORK/keys"

for type in ed25519 ecdsa rsa; do ssh-keygen -q -t "$type" -N "" -C "$type" -f "$WORK/$type"; done
{
    echo "ed@example.com namespaces=\"git\" $(cut -d' ' -f1,2 "$WORK/ed25519.pub")"
    echo "ec@example.com $(cut -d' ' -f1,2 "$WORK/ecdsa.pub")"
    echo "rsa@example.com $(cut -d' ' -f1,2 "$WORK/rsa.pub")"
} > "$WORK/allowed_signers"
for algo in rsa3072 ed25519; do
    gpg --batch -q --passphrase '' --pinentry-mode loopback --quick-gen-key "Bench <$algo@example.com>" "$algo" sign never
    gpg --batch -q --armor --export "$algo@example.com" > "$WORK/keys/$algo.asc"
    GNUPGHOME=$WORK/verify gpg --batch -q --import "$WORK/keys/$algo.asc"
done

git init -q -b main "$WORK/repo"
g() { git -C "$WORK/repo" -c user.name=Bench -c user.email=bench@example.com "$@"; }
commits=()
commit() { g "${@:2}" commit -q --allow-empty -m "$1"; commits+=("$1=$(g rev-parse HEAD)"); }
commit ssh-ed25519 -c gpg.format=ssh -c user.signingkey="$WORK/ed25519" -c commit.gpgsign=true
commit ssh-ecdsa -c gpg.format=ssh -c user.signingkey="$WORK/ecdsa" -c commit.gpgsign=true
commit ssh-rsa3072 -c gpg.format=ssh -c user.signingkey="$WORK/rsa" -c commit.gpgsign=true
commit openpgp-rsa3072 -c user.signingkey=rsa3072@example.com -c commit.gpgsign=true
commit openpgp-eddsa -c user.signingkey=ed25519@example.com -c commit.gpgsign=true
commit unsigned -c commit.gpgsign=false

date -u +"%Y-%m-%d %H:%M UTC"; nproc | sed 's/^/cores: /'
dotnet run -c Release --project bench/gitsync/SignatureVerification -- \
    "$WORK/repo" "$WORK/allowed_signers" "$WORK/keys" "$WORK/verify" "$ITERATIONS" "${commits[@]}"
