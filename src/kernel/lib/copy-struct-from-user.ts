// copy_struct_from_user() (include/linux/uaccess.h): how extensible structs come in. The
// kernel's struct is ksize bytes, the user's usize: a shorter user struct is zero-extended,
// a longer one is accepted only if every byte the kernel does not know is zero (-E2BIG
// otherwise), and bytes the user does not have fault (-EFAULT).

import { E2BIG, EFAULT } from '../../uapi/errno.js';
import { KStruct, type StructDef } from '../../uapi/struct.js';

/** The struct as the kernel sees it, or -EFAULT / -E2BIG. */
export function copyStructFromUser(def: StructDef, user: Uint8Array | undefined, usize: number): KStruct | number {
  const ksize = def.size;
  if (usize > ksize) {
    // check_zeroed_user(src + ksize, usize - ksize)
    if (!user || user.length < usize) return -EFAULT;
    if (user.subarray(ksize, usize).some((b) => b !== 0)) return -E2BIG;
  }
  const k = KStruct.fromUser(def, user, Math.min(ksize, usize));
  return k ?? -EFAULT;
}
