#!/usr/bin/env bash
# Generates the audio fixtures under test/fixtures/audio and their manifest.json.
#
# Needs espeak-ng, sox, ffmpeg/ffprobe, openssl and jq on the machine that runs it.
# CI does not run it: the generated files are committed, and the manifest records what ffprobe/ffmpeg
# measured for each one, so the tests compare our probe with ffprobe without needing ffprobe.
#
# Everything is kept small (low sample rates and bitrates, a few seconds of synthetic speech) so the
# whole set stays well under 2 MB. Oversize inputs are built in memory by the tests, never committed.
#
# Usage: scripts/make-audio-fixtures.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/test/fixtures/audio"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# bitexact: no encoder version strings or random stream ids, so regenerating does not churn unchanged files.
# Usage: ff <ffmpeg arguments> <output>; the flags go right before the output, where they apply to it.
ff() { ffmpeg -nostdin -hide_banner -loglevel error -y "${@:1:$#-1}" -fflags +bitexact -flags:a +bitexact "${@: -1}"; }
# Random-looking bytes that are the same on every run (AES-CTR over zeros with a fixed key), so
# regenerating the fixtures does not churn them: noise <hex key> <byte count>. openssl dies of SIGPIPE
# once head has enough, which is the expected way for it to stop.
noise() {
  { openssl enc -aes-128-ctr -nosalt -K "$1" -iv 00000000000000000000000000000000 </dev/zero 2>/dev/null || true; } |
    head -c "$2"
}

mkdir -p "$out"
rm -f "$out"/*

# --- Source material -----------------------------------------------------------------------------------
espeak-ng -w "$work/speech-raw.wav" -s 150 \
  'The quick brown fox jumps over the lazy dog. Voice drop clones a voice from a short, clean sample of speech. Please speak clearly.'
# 20 s of speech, for "too long": the sentence three times over.
sox "$work/speech-raw.wav" "$work/speech-raw.wav" "$work/speech-raw.wav" "$work/speech-long.wav"
speech="$work/speech-raw.wav"

# A cover image that does not compress (random noise), so the ID3v2 tag holding it is larger than the
# 64 KiB first read.
noise 0f0e0d0c0b0a09080706050403020100 $((200 * 200 * 3)) >"$work/cover.rgb"
ff -f rawvideo -pixel_format rgb24 -video_size 200x200 -i "$work/cover.rgb" -frames:v 1 "$work/cover.png"
# A 6 s 64x64 test picture, for MP4/WebM files with a video track.
ff -f lavfi -i testsrc=size=64x64:rate=10:duration=6 -pix_fmt yuv420p "$work/video.y4m"

# --- WAV ---------------------------------------------------------------------------------------------------
ff -i "$speech" -t 8 -ar 16000 -ac 1 -c:a pcm_s16le "$out/speech-16bit-mono.wav"
ff -i "$speech" -t 1 -ar 44100 -ac 2 -c:a pcm_s16le "$out/stereo-44k.wav"
ff -i "$speech" -t 6 -ar 8000 -ac 1 -c:a pcm_u8 "$out/speech-8bit.wav"
ff -i "$speech" -t 2 -ar 8000 -ac 1 -c:a pcm_s24le "$out/speech-24bit.wav"
ff -i "$speech" -t 2 -ar 8000 -ac 1 -c:a pcm_f32le "$out/speech-float32.wav"
# sox writes WAVE_FORMAT_EXTENSIBLE for 24-bit stereo (more than 16 bits or more than 2 channels).
sox "$speech" -r 8000 -c 2 -b 24 -e signed-integer "$out/extensible-24bit-stereo.wav" trim 0 2
ff -i "$speech" -t 3 -ar 8000 -ac 1 -c:a pcm_s16le "$out/too-short-3s.wav"
ff -i "$work/speech-long.wav" -t 20 -ar 8000 -ac 1 -c:a pcm_u8 "$out/too-long-20s.wav"
# Header says 8 s, but only the first 40 % of the bytes are there.
ff -i "$speech" -t 8 -ar 8000 -ac 1 -c:a pcm_s16le "$work/full-8s.wav"
head -c $((44 + 8000 * 2 * 8 * 4 / 10)) "$work/full-8s.wav" >"$out/truncated-header-claims-more.wav"
# Compressed WAV: their length is in the fact chunk (the header's byte rate is approximate, or 0 for MP3).
ff -i "$speech" -t 6 -ar 8000 -ac 1 -c:a adpcm_ima_wav "$out/speech-ima-adpcm.wav"
ff -i "$speech" -t 6 -ar 8000 -ac 1 -c:a adpcm_ms "$out/speech-ms-adpcm.wav"
ff -i "$speech" -t 6 -ar 8000 -ac 1 -c:a libmp3lame -b:a 16k -f wav "$out/mp3-in-wav.wav"
# RF64: WAV with 64-bit sizes (the 32-bit data size says 0xFFFFFFFF).
ff -i "$speech" -t 6 -ar 8000 -ac 1 -c:a pcm_u8 -rf64 always "$out/speech-rf64.wav"
# Sony Wave64: recognised, not accepted.
ff -i "$speech" -t 2 -ar 8000 -ac 1 -c:a pcm_u8 -f w64 "$out/speech.w64"

# --- MP3 ---------------------------------------------------------------------------------------------------
ff -i "$speech" -t 8 -ar 22050 -ac 1 -c:a libmp3lame -b:a 32k "$out/speech-cbr.mp3"
ff -i "$speech" -t 8 -ar 22050 -ac 1 -c:a libmp3lame -q:a 7 "$out/speech-vbr-xing.mp3"
ff -i "$speech" -t 8 -ar 22050 -ac 1 -c:a libmp3lame -q:a 7 -write_xing 0 "$out/speech-vbr-no-xing.mp3"
ff -i "$out/speech-cbr.mp3" -i "$work/cover.png" -map 0 -map 1 -c copy -id3v2_version 3 \
  -metadata title='Sample with cover' -metadata:s:v comment='Cover (front)' -disposition:v attached_pic \
  "$out/speech-big-cover.mp3"
# The Xing header still counts every frame of 8 s; only the first half of the bytes are there.
size=$(stat -c %s "$out/speech-vbr-xing.mp3")
head -c $((size / 2)) "$out/speech-vbr-xing.mp3" >"$out/truncated-xing-claims-more.mp3"
# MP3 bytes under a .wav name: the format comes from the bytes.
cp "$out/speech-cbr.mp3" "$out/mislabelled-mp3.wav"

# --- MP4 / M4A -----------------------------------------------------------------------------------------------
ff -i "$speech" -t 8 -ar 22050 -ac 1 -c:a aac -b:a 24k "$out/speech.m4a"
ff -i "$work/video.y4m" -t 2 -c:v libx264 -preset veryfast -crf 40 -an "$out/video-only.mp4"
ff -i "$work/video.y4m" -i "$speech" -t 6 -map 0:v -map 1:a -c:v libx264 -preset veryfast -crf 40 \
  -c:a aac -ar 22050 -ac 1 -b:a 24k -shortest "$out/video-and-audio.mp4"
# Fragmented (moof/mdat pairs after an empty moov), as Safari's MediaRecorder writes audio/mp4.
ff -i "$speech" -t 7 -ar 22050 -ac 1 -c:a aac -b:a 24k -movflags frag_keyframe+empty_moov+default_base_moof \
  -frag_duration 1000000 "$out/speech-fragmented.m4a"
# moov first (faststart), then cut into the media data: the sample table claims 8 s.
ff -i "$speech" -t 8 -ar 22050 -ac 1 -c:a aac -b:a 24k -movflags +faststart "$work/faststart.m4a"
size=$(stat -c %s "$work/faststart.m4a")
head -c $((size / 2)) "$work/faststart.m4a" >"$out/truncated-mdat.m4a"

# --- WebM / Matroska -------------------------------------------------------------------------------------------
ff -i "$speech" -t 8 -c:a libopus -b:a 16k "$out/speech-opus.webm"
# Read from and written to pipes, live: the muxer neither knows the length up front nor can seek back, so
# the file has no Duration and no Cues and the Segment has an unknown size, like a browser's MediaRecorder.
ff -i "$speech" -t 7 -f wav pipe:1 |
  ffmpeg -hide_banner -loglevel error -f wav -i pipe:0 -c:a libopus -b:a 16k -live 1 -fflags +bitexact -f webm pipe:1 \
    >"$out/speech-no-duration.webm"
ff -i "$work/video.y4m" -t 2 -c:v libvpx -b:v 50k -an "$out/video-only.webm"
size=$(stat -c %s "$out/speech-opus.webm")
head -c $((size / 2)) "$out/speech-opus.webm" >"$out/truncated-cluster.webm"
ff -i "$speech" -t 2 -c:a libopus -b:a 16k "$out/speech.mka"

# --- Recognised audio that no provider here accepts ------------------------------------------------------------
ff -i "$speech" -t 2 -ar 8000 -ac 1 -c:a libvorbis -q:a 0 "$out/speech-vorbis.ogg"
ff -i "$speech" -t 2 -c:a libopus -b:a 16k "$out/speech-opus.ogg"
ff -i "$speech" -t 2 -ar 8000 -ac 1 -c:a flac "$out/speech.flac"
ff -i "$speech" -t 2 -ar 22050 -ac 1 -c:a aac -b:a 24k -f adts "$out/speech-adts.aac"
ff -i "$speech" -t 2 -ar 8000 -ac 1 -c:a pcm_s16be "$out/speech.aiff"
ff -i "$speech" -t 2 -ar 8000 -ac 1 -c:a pcm_s16le "$out/speech.caf"
ff -i "$speech" -t 2 -ar 22050 -ac 1 -c:a wmav2 -b:a 32k "$out/speech.wma"

# --- Not audio -----------------------------------------------------------------------------------------------
ff -f lavfi -i color=c=steelblue:s=32x32 -frames:v 1 "$out/picture.png"
printf '%%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%%%EOF\n' >"$out/document.pdf"
printf 'Hello, this is a plain text file and not a voice sample.\n' >"$out/notes.txt"
noise 000102030405060708090a0b0c0d0e0f 8192 >"$out/random.bin"
: >"$out/empty.wav"

# --- Manifest: what ffprobe / ffmpeg measure for each file ----------------------------------------------------------
# durationSec is ffprobe's format duration (what the container declares, or ffprobe's estimate); decodedSec is
# the length of a full decode with ffmpeg (samples out / sample rate), the real playable length even where a
# header claims more than the file holds (truncation) or where there is none (VBR without Xing, live WebM).
manifest="$work/manifest.json"
echo '{}' >"$manifest"
for file in "$out"/*; do
  name=$(basename "$file")
  [ "$name" = manifest.json ] && continue
  bytes=$(stat -c %s "$file")
  probe=$(ffprobe -v error -show_entries format=format_name,duration:stream=codec_type,codec_name,sample_rate,channels \
    -of json "$file" 2>/dev/null) || probe='null'
  decoded='null'
  rate=$(jq -r '[.streams[]? | select(.codec_type == "audio")][0].sample_rate // empty' <<<"$probe" 2>/dev/null || true)
  if [ -n "$rate" ]; then
    samples=$(ffmpeg -nostdin -v quiet -i "$file" -map 0:a:0 -ac 1 -ar "$rate" -f s16le - | wc -c)
    decoded=$(awk -v bytes="$samples" -v rate="$rate" 'BEGIN { printf "%.6f", bytes / 2 / rate }')
  fi
  jq --arg name "$name" --argjson bytes "$bytes" --argjson probe "$probe" --argjson decoded "$decoded" '
    .[$name] = {
      sizeBytes: $bytes,
      ffprobe: (if $probe == null then null else {
        formatName: $probe.format.format_name,
        durationSec: ($probe.format.duration // null | if . == null then null else tonumber end),
        audio: ([$probe.streams[]? | select(.codec_type == "audio")][0] // null
          | if . == null then null else { codec: .codec_name, sampleRate: (.sample_rate | tonumber), channels } end),
        hasVideo: ([$probe.streams[]? | select(.codec_type == "video")] | length > 0)
      } end),
      decodedSec: $decoded
    }' "$manifest" >"$manifest.next"
  mv "$manifest.next" "$manifest"
done
jq -S . "$manifest" >"$out/manifest.json"
du -ch "$out"/* | tail -n 1
