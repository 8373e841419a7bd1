// A system call the real kernel would not return from until something else happens (a VF
// removal waiting for its VFIO user to close, an attach waiting for invalidated vaddrs to be
// updated). One process cannot wait on itself, so the model stops the scenario and says why.

import { UserError } from '../lib/user-error.js';

export class WouldBlock extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'WouldBlock';
  }
}
