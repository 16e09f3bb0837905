/** Every decrypt or unwrap failure becomes this one error: no oracle on why it failed. */
export class DecryptionFailedError extends Error {
  readonly code = 'DECRYPTION_FAILED';
  constructor() {
    super('decryption failed');
    this.name = 'DecryptionFailedError';
  }
}
