/**
 * The acceptance of "Voice data" (README): local mode with consent required, against the provider
 * simulators (an independent implementation of both providers' APIs, over real HTTP): consent checks before
 * any provider call, marked speech, revocation deleting everywhere, and `npm run retention -- --local`
 * (a separate process, as a user runs it) moving the clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepReport } from '../../functions/retention/sweep';
import type { VoiceDeletion, VoiceRecord } from '../../functions/shared/voices/record';
import type { LocalPipeline } from '../../local/pipeline';
import { localS3Client } from '../../local/servers';
import { makeWav } from '../support/audio';
import { id3Tags, wavTags } from '../support/audio-tags';
import { dropSample, waitForVoice } from '../support/drop';
import { startTestPipeline } from '../support/local-pipeline';
import { runScript } from '../support/processes';

const RETENTION = { RETENTION_UNUSED_DAYS: '30', RETENTION_REJECTED_DAYS: '7' };
const DAY_MS = 86_400_000;

const dataDir = mkdtempSync(join(tmpdir(), 'voicedrop-voice-data-'));
let local: LocalPipeline;
let api: string;

beforeAll(async () => {
  local = await startTestPipeline(dataDir, {
    requireConsent: true,
    // Deletes at Smallest too (its default refuses API-key deletes, reported as not_deleted).
    smallestDeleteMode: 'lightning-large',
    environment: RETENTION,
  });
  api = local.info.apiEndpoint as string;
}, 60_000);

afterAll(async () => {
  await local?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const s3 = () => localS3Client(local.info.s3Endpoint);
let seed = 1;

async function upload(key: string, consentId?: string): Promise<string> {
  const audio = makeWav({ durationSec: 6, sampleRate: 16_000, seed: seed++ });
  return dropSample(local.info, key, audio, consentId ? { 'consent-id': consentId } : undefined);
}

const settled = (voiceId: string) => waitForVoice(local.voices, voiceId);

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function cloneRequests(): Promise<number> {
  let total = 0;
  for (const url of Object.values(local.simulatorUrls)) {
    const state = (await (await fetch(`${url}/__sim/state`)).json()) as { counts: { clone?: number } };
    total += state.counts.clone ?? 0;
  }
  return total;
}

async function sourceExists(record: VoiceRecord): Promise<boolean> {
  try {
    await s3().send(new HeadObjectCommand({ Bucket: record.source.bucket, Key: record.source.key }));
    return true;
  } catch {
    return false;
  }
}

/** The voice's record says deleted, with (at least) `deletion`, and the uploaded audio is gone. */
async function expectDeleted(voiceId: string, deletion: Partial<VoiceDeletion>): Promise<VoiceRecord> {
  const record = (await local.voices.get(voiceId)) as VoiceRecord;
  expect(record.status).toBe('deleted');
  expect(record.deletion).toMatchObject(deletion);
  expect(await sourceExists(record)).toBe(false);
  return record;
}

async function runRetention(asOf: Date): Promise<SweepReport> {
  const run = await runScript(
    'scripts/retention.ts',
    ['--local', '--data-dir', dataDir, '--as-of', asOf.toISOString(), '--json'],
    RETENTION,
  );
  if (run.code !== 0) throw new Error(`exit ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as SweepReport;
}

describe('voice data in local mode with consent required', () => {
  const consent = { id: '', voices: { smallest: '', typecast: '' } };
  const kept = { consentId: '', voiceId: '' };
  const rejected: string[] = [];

  it('rejects an upload without consent (consent_required) and one naming an unknown consent (consent_invalid), before any provider call', async () => {
    const before = await cloneRequests();
    const without = await settled(await upload('incoming/smallest/Nobody.wav'));
    expect(without.status).toBe('rejected');
    expect(without.error?.code).toBe('consent_required');
    const unknown = await settled(await upload('incoming/typecast/Stranger.wav', `cs_${'a'.repeat(26)}`));
    expect(unknown.status).toBe('rejected');
    expect(unknown.error?.code).toBe('consent_invalid');
    expect(await cloneRequests()).toBe(before);
    rejected.push(without.voiceId, unknown.voiceId);
  });

  it('records a consent once and clones under it on both providers', async () => {
    const created = await call('POST', '/consents', {
      speakerName: 'Ada Lovelace',
      grantedBy: 'Ada Lovelace',
      purpose: 'Narration of the museum audio guide',
      statement: 'I agree that voicedrop may clone my voice for the museum audio guide.',
    });
    expect(created.status).toBe(201);
    expect(created.body.consentId).toMatch(/^cs_[a-z2-7]{26}$/);
    expect(created.body.createdBy).toBe('arn:aws:iam::000000000000:user/local-mode');
    consent.id = created.body.consentId as string;
    for (const provider of ['smallest', 'typecast'] as const) {
      const voice = await settled(await upload(`incoming/${provider}/Ada.wav`, consent.id));
      expect(voice.status, JSON.stringify(voice.error)).toBe('ready');
      expect(voice.consentId).toBe(consent.id);
      consent.voices[provider] = voice.voiceId;
    }
    const read = await call('GET', `/consents/${consent.id}`);
    expect((read.body.voices as { voiceId: string }[]).map((voice) => voice.voiceId).sort()).toEqual(
      Object.values(consent.voices).sort(),
    );

    const other = await call('POST', '/consents', { speakerName: 'Bo', grantedBy: 'Bo', purpose: 'Demo' });
    kept.consentId = other.body.consentId as string;
    const voice = await settled(await upload('incoming/smallest/Bo.wav', kept.consentId));
    expect(voice.status).toBe('ready');
    kept.voiceId = voice.voiceId;
  });

  it('speaks WAV and MP3 marked AI-generated with the voice id', async () => {
    const wav = await fetch(`${api}/voices/${consent.voices.smallest}/speech`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'Welcome to the museum.' }),
    });
    const wavTagsFound = wavTags(new Uint8Array(await wav.arrayBuffer())).info;
    expect(wavTagsFound.ICMT).toContain('AI-generated');
    expect(wavTagsFound.ICMT).toContain(consent.voices.smallest);
    const mp3 = await fetch(`${api}/voices/${consent.voices.typecast}/speech`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ text: 'Welcome to the museum.', format: 'mp3' }),
    });
    const mp3Tags = id3Tags(new Uint8Array(await mp3.arrayBuffer()));
    expect(mp3Tags['TXXX:AI_GENERATED']).toContain('AI-generated');
    expect(mp3Tags['TXXX:VOICE_ID']).toBe(consent.voices.typecast);
  });

  it('revokes the consent: both voices are deleted everywhere with the receipt consent_revoked; later uploads under it are consent_invalid', async () => {
    const revoked = await call('DELETE', `/consents/${consent.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    for (const voiceId of Object.values(consent.voices)) {
      const record = await expectDeleted(voiceId, {
        reason: 'consent_revoked',
        by: 'consent',
        provider: 'deleted',
        sourceVersionsDeleted: 1,
      });
      expect(record.source.sha256).toBeUndefined();
      expect(record.samples).toBeUndefined();
    }
    // Speech was made with one of them: its cached pieces went too.
    const smallest = (await local.voices.get(consent.voices.smallest)) as VoiceRecord;
    expect(smallest.deletion?.cachedObjectsDeleted).toBeGreaterThan(0);
    // Kept, with the voices gone.
    const read = await call('GET', `/consents/${consent.id}`);
    expect((read.body.voices as { status: string }[]).every((voice) => voice.status === 'deleted')).toBe(
      true,
    );

    const late = await settled(await upload('incoming/smallest/Ada again.wav', consent.id));
    expect(late.status).toBe('rejected');
    expect(late.error?.code).toBe('consent_invalid');
    expect(late.error?.message).toMatch(/revoked/);
    rejected.push(late.voiceId);
  });

  it('npm run retention -- --local --as-of: ten days on, rejected uploads lose their audio and the voice in use stays; 31 days on it is deleted, expired', async () => {
    const tenDays = await runRetention(new Date(Date.now() + 10 * DAY_MS));
    expect(tenDays.failed).toEqual([]);
    expect(tenDays.deleted.map((entry) => entry.voiceId).sort()).toEqual([...rejected].sort());
    for (const voiceId of rejected) {
      const record = await expectDeleted(voiceId, {
        reason: 'expired',
        by: 'retention',
        provider: 'not_applicable',
      });
      // The record keeps why it was rejected, and its receipt.
      expect(record.error?.code).toMatch(/^consent_/);
    }
    expect((await local.voices.get(kept.voiceId))?.status).toBe('ready');

    const again = await runRetention(new Date(Date.now() + 10 * DAY_MS));
    expect(again.deleted).toEqual([]);

    const later = await runRetention(new Date(Date.now() + 31 * DAY_MS));
    expect(later.deleted.map((entry) => entry.voiceId)).toEqual([kept.voiceId]);
    await expectDeleted(kept.voiceId, { reason: 'expired', by: 'retention', provider: 'deleted' });
  }, 60_000);
});
