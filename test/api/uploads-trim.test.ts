import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiApp } from '../../functions/api/app';
import type { UploadAnswer } from '../../functions/api/uploads';
import { PROVIDER_LIMITS } from '../../functions/shared/providers/limits';
import { TRIM_SOURCE_MAX_BYTES } from '../../functions/shared/validation/options';
import { startPipelineFixture } from '../support/pipeline-fixture';
import { policyOf } from '../support/upload-form';

let fixture: Awaited<ReturnType<typeof startPipelineFixture>>;

beforeAll(async () => {
  fixture = await startPipelineFixture();
});

afterAll(async () => {
  await fixture?.stop();
});

async function uploadForm(body: Record<string, unknown>, defaultTrim?: 'auto' | 'off') {
  const app = createApiApp(fixture.apiDependencies(defaultTrim ? { defaultTrim } : {}));
  return app.request('/uploads', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('POST /uploads with trim', () => {
  it('pins trim=auto in the signed metadata and allows a recording up to the trim bound', async () => {
    const answer = await uploadForm({ fileName: 'long.wav', provider: 'smallest', trim: 'auto' });
    expect(answer.status).toBe(201);
    const form = (await answer.json()) as UploadAnswer;
    expect(form.fields['x-amz-meta-trim']).toBe('auto');
    expect(form.maxBytes).toBe(TRIM_SOURCE_MAX_BYTES);
    expect(JSON.stringify(policyOf(form).conditions)).toContain(
      `["content-length-range",1,${TRIM_SOURCE_MAX_BYTES}]`,
    );
  });

  it("keeps the provider's limit without trim, and follows the stack's trim default", async () => {
    const plain = (await (
      await uploadForm({ fileName: 'a.wav', provider: 'smallest' })
    ).json()) as UploadAnswer;
    expect(plain.maxBytes).toBe(PROVIDER_LIMITS.smallest.maxBytes);
    expect(plain.fields['x-amz-meta-trim']).toBeUndefined();
    const byDefault = (await (
      await uploadForm({ fileName: 'b.wav', provider: 'smallest' }, 'auto')
    ).json()) as UploadAnswer;
    expect(byDefault.maxBytes).toBe(TRIM_SOURCE_MAX_BYTES);
  });

  it('refuses an unknown trim mode and a size beyond the trim bound', async () => {
    expect((await uploadForm({ fileName: 'c.wav', trim: 'maybe' })).status).toBe(400);
    const tooLarge = await uploadForm({
      fileName: 'd.wav',
      trim: 'auto',
      sizeBytes: TRIM_SOURCE_MAX_BYTES + 1,
    });
    expect(tooLarge.status).toBe(422);
    expect(await tooLarge.json()).toMatchObject({ error: { code: 'file_too_large' } });
  });
});
