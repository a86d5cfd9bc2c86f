import { describe, expect, it, vi } from 'vitest';
import { clientHarness } from './client-harness';

const { KEY, setup } = clientHarness('smallest');

// The Smallest client on clones that exist: finding and deleting them, and the key it asks for again.

describe('Smallest client: findClone', () => {
  const hint = {
    voiceRecordId: 'vc_target',
    displayName: 'Alice',
    model: 'lightning-v3.1',
    startedAt: new Date(),
  };

  it('reports absent when no clone carries the record id (the list is complete)', async () => {
    const { simulator, provider } = await setup();
    simulator.seedClone({ displayName: 'Alice', tags: ['vc_other'] });

    expect(await provider.findClone(hint)).toEqual({ outcome: 'absent' });
  });

  it('finds the one clone tagged with the record id, whatever its name', async () => {
    const { simulator, provider } = await setup();
    const seeded = simulator.seedClone({ displayName: 'Renamed', tags: ['a', 'vc_target'] });

    const lookup = await provider.findClone(hint);

    expect(lookup).toMatchObject({ outcome: 'found', voice: { providerVoiceId: seeded.voiceId } });
  });

  it('reports ambiguous when two clones carry the record id', async () => {
    const { simulator, provider } = await setup();
    simulator.seedClone({ displayName: 'Alice', tags: ['vc_target'] });
    simulator.seedClone({ displayName: 'Alice', tags: ['vc_target'] });

    const lookup = await provider.findClone(hint);

    expect(lookup.outcome).toBe('ambiguous');
    if (lookup.outcome === 'ambiguous') expect(lookup.reason).toContain('2 Smallest AI Waves clones');
  });

  it('finds the clone it is waiting for by its id, even beside another with the record id', async () => {
    const { simulator, provider } = await setup();
    simulator.seedClone({ displayName: 'Alice', tags: ['vc_target'] });
    const awaited = simulator.seedClone({ displayName: 'Alice', tags: ['vc_target'] });

    const lookup = await provider.findClone({ ...hint, providerVoiceId: awaited.voiceId });

    expect(lookup).toMatchObject({ outcome: 'found', voice: { providerVoiceId: awaited.voiceId } });
  });
});

describe('Smallest client: delete', () => {
  it('deletes through the guide’s route and treats an unknown voice as deleted', async () => {
    const { simulator, provider } = await setup({ deleteMode: 'lightning-large' });
    const voice = simulator.seedClone({ displayName: 'Alice' });

    expect(await provider.deleteVoice(voice.voiceId)).toEqual({ deleted: true });
    expect(await provider.deleteVoice(voice.voiceId)).toEqual({ deleted: true });
    expect(simulator.state.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'DELETE /waves/v1/lightning-large',
      'DELETE /waves/v1/lightning-large',
    ]);
    expect(simulator.state.requests[0]?.json).toEqual({ voiceId: voice.voiceId });
  });

  it('falls back to the newer route when the guide’s answers 410, and remembers it', async () => {
    const { simulator, provider } = await setup({ deleteMode: 'new-route' });
    const first = simulator.seedClone({ displayName: 'One' });
    const second = simulator.seedClone({ displayName: 'Two' });

    expect(await provider.deleteVoice(first.voiceId)).toEqual({ deleted: true });
    expect(await provider.deleteVoice(second.voiceId)).toEqual({ deleted: true });
    expect(simulator.state.clones.size).toBe(0);
    expect(simulator.state.requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      'DELETE /waves/v1/lightning-large',
      'POST /waves/v1/voice-cloning/delete',
      'POST /waves/v1/voice-cloning/delete',
    ]);
  });

  it('says honestly that the API key cannot delete, and where to delete instead', async () => {
    const { simulator, provider } = await setup({ deleteMode: 'api-key-refused' });
    const voice = simulator.seedClone({ displayName: 'Alice' });

    const result = await provider.deleteVoice(voice.voiceId);

    expect(result.deleted).toBe(false);
    expect(result.detail).toBe(
      `Smallest does not allow deleting clones with an API key; delete voice ${voice.voiceId} in the Smallest dashboard (app.smallest.ai → Voice cloning).`,
    );
    expect(simulator.state.clones.has(voice.voiceId)).toBe(true);
  });

  it('reports a voice the refusing route cannot delete as deleted when the list no longer has it', async () => {
    const { provider } = await setup({ deleteMode: 'api-key-refused' });

    expect(await provider.deleteVoice('voice_gone')).toEqual({ deleted: true });
  });
});

describe('Smallest client: keys', () => {
  it('fetches the key again once after a 401 and succeeds with the rotated key', async () => {
    const apiKey = vi.fn(async (options?: { refresh?: boolean }) =>
      options?.refresh ? KEY : 'sk_rotated_away',
    );
    const { simulator, provider } = await setup({}, { apiKey });

    const lookup = await provider.findClone({
      voiceRecordId: 'vc_x',
      displayName: 'A',
      model: 'lightning-v3.1',
      startedAt: new Date(),
    });

    expect(lookup.outcome).toBe('absent');
    expect(apiKey.mock.calls).toEqual([[], [{ refresh: true }]]);
    expect(simulator.state.counts.list).toBe(2);
  });
});
