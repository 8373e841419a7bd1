// A hardware model refusing its parameters: a configuration the real part cannot have (a PAMU
// aperture that is not a power of two, ...). The model says what is wrong and which check of
// the driver it models; the preset layer (presets.ts) passes it on as a PresetError, which the
// machine layer (machine/boot.ts) reports to the user with the same text.

export class ModelConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelConfigError';
  }
}
