#!/usr/bin/env bash
# Generates the speech-quality corpus under test/fixtures/quality (recordings + manifest.json) and the
# quick-start sample samples/sample.wav.
#
# Needs espeak-ng, sox (with libsox-fmt-all), ffmpeg/ffprobe, lame and jq on the machine that runs it
# (Debian: apt-get install -y espeak-ng sox libsox-fmt-all ffmpeg lame jq). CI does not run it: the outputs
# are committed, and manifest.json records what sox/ffmpeg measured for each file, so tests need none of
# these tools.
#
# The speech is espeak-ng (several voices, pitches and speeds reading ordinary English prose), processed
# with sox/ffmpeg to imitate real recording conditions: a quiet laptop, a noisy reverberant room, a phone
# line, lossy codecs, a 48 kHz stereo laptop microphone, pauses, and the failures a speech-quality gate
# should catch (silence, noise or hum without speech, whisper-level speech, hard clipping, too little
# speech, too long). Every random source is seeded (ffmpeg anoisesrc seeds, sox -R), so a rerun with the
# same tool versions reproduces the same bytes.
#
# Usage: scripts/make-quality-corpus.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/test/fixtures/quality"
samples="$root/samples"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in espeak-ng sox soxi ffmpeg ffprobe lame jq; do
  command -v "$tool" >/dev/null || { echo "make-quality-corpus: $tool is not installed" >&2; exit 1; }
done

# sox: -R repeatable pseudo-random numbers (dither), -V1 only real errors (no clipping chatter; clipping
# is measured and recorded below).
sx() { sox -R -V1 "$@"; }
# ffmpeg with bitexact output: no encoder version strings or random stream ids, so regenerating does not
# churn unchanged files. Usage: ff <ffmpeg arguments> <output>.
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "${@:1:$#-1}" -fflags +bitexact -flags:a +bitexact "${@: -1}"; }

# --- Helpers -----------------------------------------------------------------------------------------------
# The overall RMS level of a file in dBFS (sox stats).
rms_of() { sx "$1" -n stats 2>&1 | awk '/^RMS lev dB/ { print $4 }'; }
# level IN OUT TARGET_RMS_DBFS [more sox effects]: IN scaled so that its overall RMS is TARGET dBFS.
level() {
  local in=$1 dst=$2 target=$3
  shift 3
  local now
  now=$(rms_of "$in")
  sx "$in" "$dst" gain "$(awk -v t="$target" -v n="$now" 'BEGIN { printf "%.3f", t - n }')" "$@"
}
# noise OUT RATE SECONDS COLOUR SEED RMS_DBFS: seeded coloured noise (ffmpeg anoisesrc) at an RMS level.
noise() {
  ff -f lavfi -i "anoisesrc=r=$2:d=$3:c=$4:s=$5:a=0.25" -ac 1 -c:a pcm_s16le "$work/noise-raw.wav"
  level "$work/noise-raw.wav" "$1" "$6"
}
# mix OUT A B [C...]: sum of same-rate, same-channel-count files, each at unit gain (length of the longest).
mix() {
  local dst=$1 args=()
  shift
  for input in "$@"; do args+=(-v 1 "$input"); done
  sx -m "${args[@]}" "$dst"
}
# trim_to IN OUT SECONDS: IN cut or padded with digital silence to exactly SECONDS.
trim_to() {
  local have
  have=$(soxi -D "$1")
  if awk -v h="$have" -v w="$3" 'BEGIN { exit !(h >= w) }'; then
    sx "$1" "$2" trim 0 "$3"
  else
    sx "$1" "$2" pad 0 "$(awk -v h="$have" -v w="$3" 'BEGIN { printf "%.6f", w - h }')" trim 0 "$3"
  fi
}

# quiet_room NAME SEED: the passage p-NAME.wav at 16 kHz (stem-NAME.wav) in a quiet room: light reverb and
# seeded pink room tone at -66 dBFS, summed into NAME-mix.wav.
quiet_room() {
  sx "$work/p-$1.wav" "$work/stem-$1.wav" rate -v 16000
  noise "$work/n-$1.wav" 16000 "$(soxi -D "$work/stem-$1.wav")" pink "$2" -66
  sx "$work/stem-$1.wav" "$work/$1-room.wav" reverb 15 50 40
  mix "$work/$1-mix.wav" "$work/$1-room.wav" "$work/n-$1.wav"
}

# speak OUT VOICE SPEED PITCH TEXT: one utterance at 22.05 kHz mono (espeak-ng's rate), espeak's own
# leading/trailing silence removed, low rumble cut, peak at -3 dBFS.
speak() {
  espeak-ng -v "$2" -s "$3" -p "$4" -w "$work/espeak.wav" "$5"
  sx "$work/espeak.wav" "$1" silence 1 0.01 -60d reverse silence 1 0.01 -60d reverse highpass 70 norm -3
}
# passage OUT VOICE SPEED PITCH LEAD_SEC [TEXT PAUSE_SEC]...: sentences read one after another with the
# given pause after each, LEAD_SEC of silence before the first, normalised together to a -3 dBFS peak.
passage() {
  local dst=$1 voice=$2 speed=$3 pitch=$4 lead=$5 parts=() i=0
  shift 5
  while [ $# -gt 0 ]; do
    speak "$work/sentence-$i.wav" "$voice" "$speed" "$pitch" "$1"
    sx "$work/sentence-$i.wav" "$work/sentence-$i-padded.wav" pad 0 "$2"
    parts+=("$work/sentence-$i-padded.wav")
    i=$((i + 1))
    shift 2
  done
  sx "${parts[@]}" "$dst" pad "$lead" 0 norm -3
}

mkdir -p "$out" "$samples"
rm -f "$out"/*.wav "$out"/*.mp3 "$out"/*.webm "$out"/*.m4a "$out"/manifest.json

# Each item: file, expectation, per-provider overrides (JSON), its clean speech track ("stem": the same
# speech at the same positions before level changes, noise, reverb, clipping or codecs; "-" for none) and a
# description. The stems are what speechSecApprox is measured on.
items="$work/items.tsv"
: >"$items"
item() { printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$items"; }

# --- Source speech ---------------------------------------------------------------------------------------------
# The "normal" passage (used for normal, quiet, whisper-level, hard-clipped and the codec versions).
passage "$work/p-normal.wav" en-us+m3 150 45 0.35 \
  'Every morning I walk to the little bakery on the corner and buy fresh bread. The owner asks about my family, and we talk about the weather for a minute.' 0.45

# --- Pass: ordinary recordings -------------------------------------------------------------------------------------
# normal.wav: studio-ish, 44.1 kHz 16-bit mono, peak about -3 dBFS, a faint noise floor (-72 dBFS).
sx "$work/p-normal.wav" "$work/normal-44k.wav" rate -v 44100
len=$(soxi -D "$work/normal-44k.wav")
noise "$work/n-normal.wav" 44100 "$len" pink 11 -72
mix "$work/normal-mix.wav" "$work/normal-44k.wav" "$work/n-normal.wav"
sx "$work/normal-mix.wav" -b 16 "$out/normal.wav" norm -3
sx "$work/p-normal.wav" "$work/stem-normal.wav" rate -v 16000
item normal.wav pass '{}' "$work/stem-normal.wav" \
  'Studio-ish: one male US voice (espeak-ng en-us+m3, 150 wpm), 44.1 kHz 16-bit mono, peak -3 dBFS, faint noise floor.'

# quiet.wav: the same speech from a quiet laptop: about -34 dBFS RMS, fan-like noise 26 dB below it.
sx "$work/p-normal.wav" "$work/quiet-16k.wav" rate -v 16000 lowpass 7000
level "$work/quiet-16k.wav" "$work/quiet-speech.wav" -34
noise "$work/n-quiet.wav" 16000 "$(soxi -D "$work/quiet-speech.wav")" brown 12 -60
mix "$work/quiet-mix.wav" "$work/quiet-speech.wav" "$work/n-quiet.wav"
sx "$work/quiet-mix.wav" -b 16 "$out/quiet.wav"
item quiet.wav pass '{}' "$work/stem-normal.wav" \
  'The normal speech recorded quietly on a laptop: about -34 dBFS RMS, 16 kHz mono, low fan-like (brown) noise at about -60 dBFS.'

# noisy-room.wav: a female British voice in a reverberant room with babble, room noise and mains hum,
# speech-to-noise ratio about 15 dB (overall RMS of the dry speech over the overall RMS of all the noise).
speak "$work/p-room.wav" en-gb+f3 155 55 \
  'We moved into the new flat in early spring. The kitchen is small, but the windows face the park, and in the evening the light is lovely.'
sx "$work/p-room.wav" "$work/room-dry.wav" rate -v 16000 pad 0.4 0.5
len=$(soxi -D "$work/room-dry.wav")
sx "$work/room-dry.wav" "$work/room-wet.wav" reverb 45 50 70 100 15 -2
# Babble: four other voices talking over each other, far away (heavy reverb, muffled).
b=0
for spec in 'en-us+m1 170 35 Did you see the game last night? I could not believe the second half at all.' \
  'en-gb+f4 160 60 She said the train was late again, so they took a taxi to the station instead.' \
  'en-us+m7 150 45 Could you pass me the menu, please? I think I will have the soup and a small salad.' \
  'en-gb+m2 175 50 The meeting moved to Thursday, and nobody has told the people from the other office.'; do
  read -r voice speed pitch text <<<"$spec"
  speak "$work/babble-$b.wav" "$voice" "$speed" "$pitch" "$text"
  sx "$work/babble-$b.wav" "$work/babble-$b-16k.wav" rate -v 16000 repeat 1 reverb 90 80 100 100 30 lowpass 2500
  trim_to "$work/babble-$b-16k.wav" "$work/babble-$b-fit.wav" "$len"
  b=$((b + 1))
done
mix "$work/babble.wav" "$work"/babble-{0,1,2,3}-fit.wav
ff -f lavfi -i "aevalsrc='0.5*sin(2*PI*50*t)+0.25*sin(2*PI*100*t)+0.2*sin(2*PI*150*t)+0.08*sin(2*PI*250*t)':s=16000:d=$len" \
  -c:a pcm_s16le "$work/room-hum.wav"
noise "$work/room-air.wav" 16000 "$len" pink 13 -40
speech_rms=$(rms_of "$work/room-dry.wav")
level "$work/babble.wav" "$work/room-n1.wav" "$(awk -v s="$speech_rms" 'BEGIN { print s - 17.5 }')"
level "$work/room-air.wav" "$work/room-n2.wav" "$(awk -v s="$speech_rms" 'BEGIN { print s - 20 }')"
level "$work/room-hum.wav" "$work/room-n3.wav" "$(awk -v s="$speech_rms" 'BEGIN { print s - 26 }')"
mix "$work/room-noise.wav" "$work/room-n1.wav" "$work/room-n2.wav" "$work/room-n3.wav"
level "$work/room-noise.wav" "$work/room-noise-15.wav" "$(awk -v s="$speech_rms" 'BEGIN { print s - 15 }')"
mix "$work/room-mix.wav" "$work/room-wet.wav" "$work/room-noise-15.wav"
sx "$work/room-mix.wav" -b 16 "$out/noisy-room.wav" norm -4
item noisy-room.wav pass '{}' "$work/room-dry.wav" \
  'Female UK voice (en-gb+f3) in a reverberant room with four-voice background babble, pink room noise and 50 Hz hum; SNR about 15 dB; 16 kHz mono.'

# phone-8khz.wav: a phone call: 8 kHz, 300-3400 Hz, a little compression and line noise, through 8-bit
# mu-law and back to 16-bit PCM.
speak "$work/p-phone.wav" en-us+m1 145 40 \
  "Hi, it's Daniel calling about the delivery. The parcel arrived this morning, but the box was open, so could you please call me back when you get a chance?"
sx "$work/p-phone.wav" "$work/phone-8k.wav" rate -v 8000 pad 0.3 0.4 sinc 300-3400 compand 0.02,0.2 -60,-60,-30,-18,0,-8 -3
noise "$work/n-phone.wav" 8000 "$(soxi -D "$work/phone-8k.wav")" white 14 -58
mix "$work/phone-mix.wav" "$work/phone-8k.wav" "$work/n-phone.wav"
sx "$work/phone-mix.wav" -e u-law -b 8 "$work/phone-ulaw.wav" norm -3
sx "$work/phone-ulaw.wav" -e signed-integer -b 16 "$out/phone-8khz.wav"
sx "$work/p-phone.wav" "$work/stem-phone.wav" rate -v 16000 pad 0.3 0.4
item phone-8khz.wav pass '{}' "$work/stem-phone.wav" \
  'Phone call: male US voice (en-us+m1), 8 kHz, band-limited 300-3400 Hz, compressed, line noise, 8-bit mu-law then back to 16-bit PCM.'

# Lossy versions of normal.wav.
lame --quiet --noreplaygain -V4 "$out/normal.wav" "$out/vbr.mp3"
item vbr.mp3 pass '{}' "$work/stem-normal.wav" 'normal.wav as VBR MP3 (lame -V4, 44.1 kHz mono, Xing/LAME header).'
ff -i "$out/normal.wav" -ar 48000 -c:a libopus -b:a 32k "$out/normal.webm"
item normal.webm pass '{"typecast":"unsupported_format"}' "$work/stem-normal.wav" \
  'normal.wav as Opus in WebM (ffmpeg libopus, 32 kbit/s, 48 kHz). Typecast takes only WAV and MP3.'
ff -i "$out/normal.wav" -c:a aac -b:a 64k "$out/normal.m4a"
item normal.m4a pass '{"typecast":"unsupported_format"}' "$work/stem-normal.wav" \
  'normal.wav as AAC-LC in MP4/M4A (ffmpeg aac, 64 kbit/s, 44.1 kHz). Typecast takes only WAV and MP3.'

# laptop-48k-stereo.wav: a laptop's stereo microphone pair, 48 kHz: the right channel 0.4 ms later,
# 1.5 dB lower and a little duller, each channel with its own fan noise.
speak "$work/p-laptop.wav" en-us+f2 175 60 \
  'I usually record these notes at my desk after lunch, with the window open and a cup of tea beside me, and the radio on.'
sx "$work/p-laptop.wav" "$work/laptop-48k.wav" rate -v 48000 pad 0.2 0.25 reverb 20 60 30
len=$(soxi -D "$work/laptop-48k.wav")
sx "$work/laptop-48k.wav" "$work/laptop-r.wav" delay 0.0004 gain -1.5 treble -3 trim 0 "$len"
noise "$work/n-laptop-l.wav" 48000 "$len" pink 15 -56
noise "$work/n-laptop-r.wav" 48000 "$len" pink 16 -57
mix "$work/laptop-l-mix.wav" "$work/laptop-48k.wav" "$work/n-laptop-l.wav"
mix "$work/laptop-r-mix.wav" "$work/laptop-r.wav" "$work/n-laptop-r.wav"
sx -M "$work/laptop-l-mix.wav" "$work/laptop-r-mix.wav" -b 16 "$out/laptop-48k-stereo.wav" norm -6
sx "$work/p-laptop.wav" "$work/stem-laptop.wav" rate -v 16000 pad 0.2 0.25
item laptop-48k-stereo.wav pass '{}' "$work/stem-laptop.wav" \
  'Laptop stereo microphone: female US voice (en-us+f2, 175 wpm), 48 kHz 16-bit stereo; right channel 0.4 ms later, 1.5 dB lower and duller; separate fan noise per channel.'

# pauses.wav: short sentences with natural pauses of 0.6-1.4 s between them, in a quiet room.
passage "$work/p-pauses.wav" en-us+m2 155 50 0.3 \
  'I called my sister yesterday.' 0.8 \
  'She just got back from the coast.' 1.4 \
  'It rained all week, she said.' 0.6 \
  'But the food was wonderful.' 0.4
quiet_room pauses 17
sx "$work/pauses-mix.wav" -b 16 "$out/pauses.wav" norm -3
item pauses.wav pass '{}' "$work/stem-pauses.wav" \
  'Male US voice (en-us+m2): four sentences with natural pauses of 0.6-1.4 s between them, quiet room tone (-66 dBFS); 16 kHz mono.'

# --- Fail ------------------------------------------------------------------------------------------------------------
# silent.wav: 8 s of digital silence (every sample 0).
ff -f lavfi -i anullsrc=r=8000:cl=mono -t 8 -c:a pcm_s16le "$out/silent.wav"
item silent.wav silent_audio '{}' - 'Digital silence: 8 s, every sample zero; 8 kHz mono.'

# near-silent.wav: 8 s of dither-level white noise, about -80 dBFS RMS (a muted or unplugged microphone).
ff -f lavfi -i "anoisesrc=r=8000:d=8:c=white:s=21:a=0.00017" -c:a pcm_s16le "$out/near-silent.wav"
item near-silent.wav silent_audio '{}' - \
  'Dither-level white noise only, about -80 dBFS RMS (a muted or unplugged microphone); 8 s, 8 kHz mono.'

# hiss-only.wav: pink noise at a normal recording level (about -30 dBFS RMS), no speech.
noise "$work/hiss.wav" 8000 8 pink 22 -30
sx "$work/hiss.wav" -b 16 "$out/hiss-only.wav"
item hiss-only.wav too_little_speech '{}' - 'Pink noise at about -30 dBFS RMS, no speech; 8 s, 8 kHz mono.'

# hum-only.wav: 50 Hz mains hum with harmonics and a little noise, no speech.
ff -f lavfi -i "aevalsrc='0.3*sin(2*PI*50*t)+0.2*sin(2*PI*100*t)+0.15*sin(2*PI*150*t)+0.06*sin(2*PI*250*t)+0.03*sin(2*PI*350*t)':s=8000:d=8" \
  -c:a pcm_s16le "$work/hum-raw.wav"
level "$work/hum-raw.wav" "$work/hum.wav" -24
noise "$work/n-hum.wav" 8000 8 pink 23 -62
mix "$work/hum-mix.wav" "$work/hum.wav" "$work/n-hum.wav"
sx "$work/hum-mix.wav" -b 16 "$out/hum-only.wav"
item hum-only.wav too_little_speech '{}' - \
  '50 Hz mains hum with harmonics at 100, 150, 250 and 350 Hz (about -24 dBFS RMS) and faint noise, no speech; 8 s, 8 kHz mono.'

# whisper-level.wav: the normal speech about 24 dB below quiet.wav (about -58 dBFS RMS), mic noise below it.
level "$work/quiet-16k.wav" "$work/whisper-speech.wav" -58
noise "$work/n-whisper.wav" 16000 "$(soxi -D "$work/whisper-speech.wav")" pink 24 -76
mix "$work/whisper-mix.wav" "$work/whisper-speech.wav" "$work/n-whisper.wav"
sx "$work/whisper-mix.wav" -b 16 "$out/whisper-level.wav"
item whisper-level.wav too_quiet '{}' "$work/stem-normal.wav" \
  'The normal speech at about -58 dBFS RMS (peak about -40 dBFS) with mic noise at about -76 dBFS; 16 kHz mono.'

# hard-clipped.wav: the normal speech (peak -3 dBFS) amplified by 20 dB and clipped at full scale.
sx "$work/p-normal.wav" "$work/clip-16k.wav" rate -v 16000
sx "$work/clip-16k.wav" -b 16 "$out/hard-clipped.wav" gain 20
item hard-clipped.wav clipped_audio '{}' "$work/stem-normal.wav" \
  'The normal speech amplified by 20 dB and hard-clipped at full scale; 16 kHz mono.'

# mostly-silent.wav: 10 s with one short phrase (about 1.5 s) in it, otherwise room tone.
speak "$work/p-short.wav" en-us+m7 160 45 'Hello, can you hear me?'
sx "$work/p-short.wav" "$work/short-16k.wav" rate -v 16000 pad 3.2 0
trim_to "$work/short-16k.wav" "$work/stem-short.wav" 10
noise "$work/n-short.wav" 16000 10 pink 25 -64
mix "$work/short-mix.wav" "$work/stem-short.wav" "$work/n-short.wav"
sx "$work/short-mix.wav" -b 16 "$out/mostly-silent.wav"
item mostly-silent.wav too_little_speech '{}' "$work/stem-short.wav" \
  'One short phrase ("Hello, can you hear me?", en-us+m7) starting at 3.2 s in 10 s of room tone (-64 dBFS); 16 kHz mono.'

# --- Over-long ---------------------------------------------------------------------------------------------------------
passage "$work/p-long.wav" en-gb+m1 155 48 0.4 \
  'Last summer my grandfather taught me how to fix an old bicycle.' 0.9 \
  'We found it at the back of his garage, covered in dust and cobwebs.' 0.7 \
  'The chain was rusty, both tyres were flat, and one of the pedals was missing.' 1.1 \
  'The next day we bought new tyres, a chain and a pair of pedals from the shop in town.' 1.2 \
  'He told me about the bicycle he rode to school as a boy, and the hill he could never quite climb.' 1.0 \
  'Putting it all back together took the whole weekend.' 0.7 \
  'When we finally finished, I rode it up and down the street while he watched from the gate.' 0.9 \
  'It is still the bike I use every day.' 0.6
quiet_room long 26
sx "$work/long-mix.wav" -b 16 "$work/long-16k.wav" norm -3
sx "$work/long-16k.wav" -b 16 "$out/long-40s.wav" rate -v 8000
lame --quiet --noreplaygain -V7 -B 32 "$work/long-16k.wav" "$out/long-40s.mp3"
item long-40s.wav pass '{"smallest":"audio_too_long"}' "$work/stem-long.wav" \
  'About 40 s of a male UK voice (en-gb+m1) reading eight sentences with 0.6-1.2 s pauses, quiet room; 8 kHz mono. Fine for Typecast (up to 150 s), too long for Smallest (up to 15 s) unless cut.'
item long-40s.mp3 pass '{"smallest":"audio_too_long"}' "$work/stem-long.wav" \
  'The same 40 s recording (from its 16 kHz version) as VBR MP3 (lame -V7 -B 32, 16 kHz mono). Fine for Typecast, too long for Smallest unless cut.'

# long-leading-silence.wav: 4 s of room tone, a 12 s spoken passage, 5 s of room tone (21 s in all).
passage "$work/p-library.wav" en-gb+f4 160 55 0 \
  'The library in our town opens at nine on weekdays.' 0.6 \
  'Before it opens, a small queue forms outside: students with laptops, parents with toddlers, and a few retired teachers.' 0
sx "$work/p-library.wav" "$work/library-16k.wav" rate -v 16000
speech_len=$(soxi -D "$work/library-16k.wav")
sx "$work/library-16k.wav" "$work/library-12.wav" pad 0 "$(awk -v h="$speech_len" 'BEGIN { printf "%.6f", (h < 12) ? 12 - h : 0 }')" trim 0 12
sx "$work/library-12.wav" "$work/stem-library.wav" pad 4 5
noise "$work/n-library.wav" 16000 21 pink 27 -72
mix "$work/library-mix.wav" "$work/stem-library.wav" "$work/n-library.wav"
sx "$work/library-mix.wav" -b 16 "$out/long-leading-silence.wav" rate -v 8000
item long-leading-silence.wav pass '{"smallest":"audio_too_long"}' "$work/stem-library.wav" \
  'Female UK voice (en-gb+f4): 4 s of room tone (-72 dBFS), a 12 s spoken passage, 5 s of room tone; 21 s, 8 kHz mono. Fine for Typecast; 21 s is too long for Smallest, but the passage alone (12 s) would fit once the silence at either end is trimmed.'

# --- The quick-start sample ---------------------------------------------------------------------------------------------
sample_text='Hello, and welcome to voice drop. This short recording is a sample of clear, natural speech, which is all you need to clone a voice.'
speak "$work/p-sample.wav" en-us+f2 170 55 "$sample_text"
sx "$work/p-sample.wav" "$work/sample-room.wav" pad 0.25 0.35 reverb 10 60 25 equalizer 200 1q +1.5
sx "$work/sample-room.wav" -b 16 "$samples/sample.wav" norm -3

# --- Manifest ------------------------------------------------------------------------------------------------------------
# durationSec: soxi -D for WAV, ffprobe's format duration otherwise. rmsDbfs, peakDbfs: ffmpeg astats over
# the decoded audio, all channels together (null for digital silence). clippedSamplesRatio: share of decoded
# 16-bit samples (all channels) at full scale (|x| >= 32767). speechSecApprox: the stem's length minus its
# silences (ffmpeg silencedetect, below -40 dBFS for at least 0.15 s); 0 for items without speech.
duration_of() {
  case "$1" in
    *.wav) soxi -D "$1" ;;
    *) ffprobe -v error -show_entries format=duration -of csv=p=0 "$1" ;;
  esac
}
astat() { # astat FILE 'Peak level dB' | 'RMS level dB'
  ffmpeg -nostdin -hide_banner -i "$1" -af astats=measure_perchannel=none:measure_overall=RMS_level+Peak_level \
    -f null - 2>&1 | awk -v key="$2" -F': ' 'index($0, key ":") { v = $NF } END { print (v == "-inf" || v == "" ? "null" : sprintf("%.2f", v)) }'
}
clipped_ratio() {
  ffmpeg -nostdin -v error -i "$1" -map 0:a:0 -f s16le -c:a pcm_s16le - | od -An -v -td2 -w2 |
    awk '{ n++; if ($1 >= 32767 || $1 <= -32767) c++ } END { printf "%.5f", n ? c / n : 0 }'
}
speech_sec() {
  [ "$1" = - ] && { echo 0; return; }
  local total
  total=$(soxi -D "$1")
  ffmpeg -nostdin -hide_banner -i "$1" -af silencedetect=noise=-40dB:d=0.15 -f null - 2>&1 |
    awk -v total="$total" '/silence_duration/ { s += $NF } END { printf "%.2f", total - s }'
}

manifest="$work/manifest.json"
echo '[]' >"$manifest"
while IFS=$'\t' read -r file expect providers stem description; do
  path="$out/$file"
  jq --arg file "$file" --arg expect "$expect" --argjson providers "$providers" --arg description "$description" \
    --argjson duration "$(duration_of "$path")" --argjson rms "$(astat "$path" 'RMS level dB')" \
    --argjson peak "$(astat "$path" 'Peak level dB')" --argjson clipped "$(clipped_ratio "$path")" \
    --argjson speech "$(speech_sec "$stem")" '
    . + [{ file: $file, expect: $expect }
      + (if $providers == {} then {} else { providers: $providers } end)
      + { description: $description,
          measured: { durationSec: ($duration * 1000 | round / 1000), rmsDbfs: $rms, peakDbfs: $peak,
                      clippedSamplesRatio: $clipped, speechSecApprox: $speech } }]' \
    "$manifest" >"$manifest.next"
  mv "$manifest.next" "$manifest"
done <"$items"
jq . "$manifest" >"$out/manifest.json"

# The sample, for samples/README.md.
echo "samples/sample.wav: $(soxi -D "$samples/sample.wav") s, RMS $(astat "$samples/sample.wav" 'RMS level dB') dBFS," \
  "peak $(astat "$samples/sample.wav" 'Peak level dB') dBFS, speech $(speech_sec "$samples/sample.wav") s," \
  "$(stat -c %s "$samples/sample.wav") bytes"
du -ch "$out"/* | tail -n 1
