#!/usr/bin/env bash
# Generates the decoder fixtures under test/fixtures/decode: one known signal (a 440 Hz sine, 0.5 peak, so
# −6.0 dBFS peak and −9.0 dBFS RMS; 1 s) in the codecs decode.ts reads, plus ones it must refuse. The
# tests compare what decodeAudio gives with these figures, so they check the decoders against encoders
# that share no code with them (sox, lame, ffmpeg's libopus and libvorbis).
#
# Needs sox, lame and ffmpeg (Debian: apt-get install -y sox ffmpeg lame). CI does not run it: the outputs
# (about 60 KB) are committed.
#
# Usage: scripts/make-decode-fixtures.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/test/fixtures/decode"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

for tool in sox lame ffmpeg; do
  command -v "$tool" >/dev/null || { echo "make-decode-fixtures: $tool is not installed" >&2; exit 1; }
done
sx() { sox -R -V1 "$@"; }
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "${@:1:$#-1}" -fflags +bitexact -flags:a +bitexact "${@: -1}"; }

# The signal, at 8 kHz for the WAV codecs (their cost is per sample) and 16 kHz for the lossy ones.
sx -n -r 8000 -c 1 -b 16 "$work/tone8.wav" synth 1 sine 440 vol 0.5
sx -n -r 16000 -c 1 -b 16 "$work/tone16.wav" synth 1 sine 440 vol 0.5
sx -n -r 16000 -c 1 -b 16 "$work/silence16.wav" trim 0 1
# Stereo with the tone on the left only: averaged to mono it is 0.25 peak (−12.0 dBFS, RMS −15.1 dBFS).
sx -M "$work/tone16.wav" "$work/silence16.wav" "$work/left16.wav"

sx "$work/tone8.wav" -e u-law "$out/tone-mulaw.wav"
sx "$work/tone8.wav" -e a-law "$out/tone-alaw.wav"
sx "$work/tone8.wav" -e floating-point -b 64 "$out/tone-float64.wav"
sx "$work/tone8.wav" -e signed-integer -b 32 "$out/tone-int32.wav"
lame --quiet -b 64 -m s "$work/left16.wav" "$out/left-stereo.mp3"
ff -i "$work/tone16.wav" -c:a libopus -b:a 32k "$out/tone-opus.webm"
ff -i "$work/left16.wav" -c:a libopus -b:a 48k "$out/left-stereo-opus.webm"
ff -i "$work/tone16.wav" -c:a libvorbis -q:a 2 "$out/tone-vorbis.webm"
ls -l "$out"
