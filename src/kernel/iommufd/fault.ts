// The IOPF fault queue (drivers/iommu/iommufd/eventq.c; fault.c in 6.11–6.14):
// IOMMU_FAULT_QUEUE_ALLOC (6.11) makes an IOMMUFD_OBJ_FAULT and an anon-inode fd
// "[iommufd-pgfault]" that delivers struct iommu_hwpt_pgfault records (read) and takes
// struct iommu_hwpt_page_response (write). An HWPT allocated with IOMMU_HWPT_FAULT_ID_VALID
// routes its domain's I/O page faults here.
//
// Faults reach the queue only through the IOMMU's page-request path (PCI PRI or an SMMU
// stall), which no modelled device or IOMMU has, and an HWPT with a fault queue cannot be
// attached where the driver would need it (VT-d: -ENODEV, device.ts). So the queue is always
// empty: a read of whole records answers 0, and every response names a cookie no fault was
// given (-EINVAL). The checks around that are the kernel's.

import { EINVAL, EOPNOTSUPP, ESPIPE } from '../../uapi/errno.js';
import { IOMMU_HWPT_PAGE_RESPONSE_SIZE, IOMMU_HWPT_PGFAULT_SIZE } from '../../uapi/iommufd.js';
import type { FileOps, Task } from '../file.js';
import { IommufdObject, type IommufdContext } from './objects.js';
import { respond, type Ucmd } from './ucmd.js';

/** enum iommufd_page_response_code: IOMMUFD_PAGE_RESP_SUCCESS, IOMMUFD_PAGE_RESP_INVALID. */
const RESPONSE_CODES = new Set([0, 1]);

/** struct iommufd_fault: the object behind a fault queue's id. */
export class FaultQueue extends IommufdObject {
  readonly type = 'fault' as const;

  /** iommufd_fault_destroy(): nothing is pending, so nothing is answered on the way out. */
  destroy(): void {}
}

export const isFault = (o: IommufdObject): o is FaultQueue => o instanceof FaultQueue;

/**
 * The queue's file (iommufd_fault_fops). anon_inode_getfile() does not run the fops' open
 * (nonseekable_open), but a pseudo file never gets FMODE_PREAD/FMODE_PWRITE either: pread and
 * pwrite are -ESPIPE in the VFS. It holds the object (obj.users) and the context
 * (iommufd_ctx_get) until its last close.
 */
export class FaultFile implements FileOps {
  readonly kind = 'fault' as const;

  constructor(
    private readonly ictx: IommufdContext,
    readonly fault: FaultQueue,
  ) {}

  read(): number {
    return -ESPIPE;
  }

  write(): number {
    return -ESPIPE;
  }

  /**
   * iommufd_fault_fops_read(): a count that is not whole records is -ESPIPE (as is a file
   * position other than 0, which this file never moves from); nothing is queued, so 0.
   */
  readPos(_proc: Task, out: Uint8Array): number {
    if (out.length % IOMMU_HWPT_PGFAULT_SIZE) return -ESPIPE;
    return 0;
  }

  /**
   * iommufd_fault_fops_write(): whole responses only (-ESPIPE); each is copied in (-EFAULT),
   * its code must be SUCCESS or INVALID and its cookie one a read handed out (-EINVAL). No
   * cookie was ever handed out, so the first response fails; 0 bytes answer 0.
   */
  writePos(_proc: Task, data: Uint8Array): number {
    if (data.length % IOMMU_HWPT_PAGE_RESPONSE_SIZE) return -ESPIPE;
    if (data.length === 0) return 0;
    const code = data[4] | (data[5] << 8) | (data[6] << 16) | (data[7] * 0x100_0000);
    if (!RESPONSE_CODES.has(code)) return -EINVAL;
    return -EINVAL; // xa_erase(&fault->response, cookie): no such cookie
  }

  /** iommufd_eventq_fops_release(): the file's reference on the object and the context go. */
  release(): void {
    this.fault.users--;
    this.ictx.put();
  }
}

/**
 * iommufd_fault_alloc(): flags must be 0; the object's id is taken, then the lowest free fd
 * (get_unused_fd_flags, O_CLOEXEC), and both come back in out_fault_id and out_fault_fd. A
 * failed copy back gives the fd up and destroys the object.
 */
export function faultAlloc(ucmd: Ucmd): number {
  const { cmd, ictx, task } = ucmd;
  if (cmd.get('flags')) return -EOPNOTSUPP;
  const fault = new FaultQueue();
  const id = ictx.add(fault);
  const file = new FaultFile(ictx, fault);
  // iommufd_eventq_init(): the file holds the object and the context.
  fault.users++;
  ictx.hold();
  const fd = task.install(file, 'anon_inode:[iommufd-pgfault]');
  if (fd < 0) {
    file.release();
    ictx.remove(id);
    return fd;
  }
  cmd.set('out_fault_id', id);
  cmd.set('out_fault_fd', fd);
  const rc = respond(ucmd, cmd.def.size);
  if (rc) {
    task.close(fd);
    ictx.remove(id);
  }
  return rc;
}
