import type { UploadAnswer } from '../../functions/api/uploads';

/** What `POST /uploads` answers: a presigned POST form. */
export type UploadForm = UploadAnswer;

/** Sends a file as a browser form would: every field as given, then the file as the last field, `file`. */
export function postForm(upload: UploadForm, file: Uint8Array, fileName = 'sample'): Promise<Response> {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([file]), fileName);
  return fetch(upload.url, { method: 'POST', body: form });
}

export interface PostPolicy {
  readonly expiration: string;
  readonly conditions: readonly (Record<string, string> | readonly (string | number)[])[];
}

/** The signed policy of a form, decoded: what S3 checks the form against. */
export function policyOf(upload: UploadForm): PostPolicy {
  const encoded = upload.fields.Policy;
  if (!encoded) throw new Error('the form has no Policy field');
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as PostPolicy;
}
