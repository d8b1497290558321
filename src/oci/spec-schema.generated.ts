/* Generated once from vendor/oci-runtime-spec-schema/config-schema.json (OCI runtime-spec v1.3.0 + fixes)
 * with json-schema-to-typescript 16.0.0:
 *   compileFromFile('config-schema.json', { cwd, bannerComment: '', additionalProperties: false,
 *                                           unknownAny: true, strictIndexSignatures: true })
 * Do not edit by hand; regenerate with scripts/gen-oci-types.mjs if the vendored schema changes.
 * Curated names for the rest of berth live in ./types.ts. */

export type ArrayOfStrings = string[];
export type ArrayOfHooks = Hook[];
export type ArrayOfGIDs = number[];
export type BlockIODeviceWeight = BlockIODevice & {
  weight?: number;
  leafWeight?: number;
};
export type ArrayOfUint32 = number[];

/**
 * Open Container Initiative Runtime Specification Container Configuration Schema
 */
export interface ConfigSchema {
  /**
   * The version of Open Container Initiative Runtime Specification that the document complies with
   */
  ociVersion: string;
  hooks?: {
    prestart?: ArrayOfHooks;
    createRuntime?: ArrayOfHooks;
    createContainer?: ArrayOfHooks;
    startContainer?: ArrayOfHooks;
    poststart?: ArrayOfHooks;
    poststop?: ArrayOfHooks;
  };
  annotations?: MapStringString;
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  /**
   * Configures the container's root filesystem.
   */
  root?: {
    path: string;
    readonly?: boolean;
  };
  process?: {
    args?: ArrayOfStrings;
    commandLine?: string;
    consoleSize?: {
      height: number;
      width: number;
    };
    cwd: string;
    env?: ArrayOfStrings;
    terminal?: boolean;
    user?: {
      uid?: number;
      gid?: number;
      umask?: number;
      additionalGids?: ArrayOfGIDs;
      username?: string;
    };
    capabilities?: {
      bounding?: ArrayOfStrings;
      permitted?: ArrayOfStrings;
      effective?: ArrayOfStrings;
      inheritable?: ArrayOfStrings;
      ambient?: ArrayOfStrings;
    };
    apparmorProfile?: string;
    oomScoreAdj?: number;
    selinuxLabel?: string;
    ioPriority?: {
      class: "IOPRIO_CLASS_RT" | "IOPRIO_CLASS_BE" | "IOPRIO_CLASS_IDLE";
      priority?: number;
    };
    noNewPrivileges?: boolean;
    scheduler?: {
      policy: "SCHED_OTHER" | "SCHED_FIFO" | "SCHED_RR" | "SCHED_BATCH" | "SCHED_ISO" | "SCHED_IDLE" | "SCHED_DEADLINE";
      nice?: number;
      priority?: number;
      flags?: (
        | "SCHED_FLAG_RESET_ON_FORK"
        | "SCHED_FLAG_RECLAIM"
        | "SCHED_FLAG_DL_OVERRUN"
        | "SCHED_FLAG_KEEP_POLICY"
        | "SCHED_FLAG_KEEP_PARAMS"
        | "SCHED_FLAG_UTIL_CLAMP_MIN"
        | "SCHED_FLAG_UTIL_CLAMP_MAX"
      )[];
      runtime?: number;
      deadline?: number;
      period?: number;
    };
    rlimits?: {
      hard: number;
      soft: number;
      type: string;
    }[];
    execCPUAffinity?: {
      initial?: string;
      final?: string;
    };
  };
  linux?: Linux;
  solaris?: Solaris;
  windows?: Windows;
  vm?: Vm;
  zos?: Zos;
  freebsd?: Freebsd;
}
export interface Hook {
  path: string;
  args?: ArrayOfStrings;
  env?: ArrayOfStrings;
  timeout?: number;
}
export interface MapStringString {
  /**
   * This interface was referenced by `MapStringString`'s JSON-Schema definition
   * via the `patternProperty` ".{1,}".
   */
  [k: string]: string | undefined;
}
export interface Mount {
  source?: string;
  destination: string;
  options?: ArrayOfStrings;
  type?: string;
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
}
export interface IDMapping {
  containerID: number;
  hostID: number;
  size: number;
}
/**
 * Linux platform-specific configurations
 */
export interface Linux {
  devices?: Device[];
  netDevices?: {
    [k: string]: NetDevice | undefined;
  };
  uidMappings?: IDMapping[];
  gidMappings?: IDMapping[];
  namespaces?: NamespaceReference[];
  resources?: {
    unified?: MapStringString;
    devices?: DeviceCgroup[];
    pids?: {
      limit: number;
    };
    blockIO?: {
      weight?: number;
      leafWeight?: number;
      throttleReadBpsDevice?: (BlockIODevice & {
        rate?: number;
      })[];
      throttleWriteBpsDevice?: (BlockIODevice & {
        rate?: number;
      })[];
      throttleReadIOPSDevice?: (BlockIODevice & {
        rate?: number;
      })[];
      throttleWriteIOPSDevice?: (BlockIODevice & {
        rate?: number;
      })[];
      weightDevice?: BlockIODeviceWeight[];
    };
    cpu?: {
      cpus?: string;
      mems?: string;
      period?: number;
      quota?: number;
      burst?: number;
      realtimePeriod?: number;
      realtimeRuntime?: number;
      shares?: number;
      idle?: number;
    };
    hugepageLimits?: {
      pageSize: string;
      limit: number;
    }[];
    memory?: {
      kernel?: number;
      kernelTCP?: number;
      limit?: number;
      reservation?: number;
      swap?: number;
      swappiness?: number;
      disableOOMKiller?: boolean;
      useHierarchy?: boolean;
      checkBeforeUpdate?: boolean;
    };
    network?: {
      classID?: number;
      priorities?: NetworkInterfacePriority[];
    };
    rdma?: {
      [k: string]: Rdma | undefined;
    };
  };
  cgroupsPath?: string;
  rootfsPropagation?: "private" | "shared" | "slave" | "unbindable";
  seccomp?: {
    defaultAction:
      | "SCMP_ACT_KILL"
      | "SCMP_ACT_KILL_PROCESS"
      | "SCMP_ACT_KILL_THREAD"
      | "SCMP_ACT_TRAP"
      | "SCMP_ACT_ERRNO"
      | "SCMP_ACT_TRACE"
      | "SCMP_ACT_ALLOW"
      | "SCMP_ACT_LOG"
      | "SCMP_ACT_NOTIFY";
    defaultErrnoRet?: number;
    flags?: (
      | "SECCOMP_FILTER_FLAG_TSYNC"
      | "SECCOMP_FILTER_FLAG_LOG"
      | "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
      | "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
    )[];
    listenerPath?: string;
    listenerMetadata?: string;
    architectures?: (
      | "SCMP_ARCH_X86"
      | "SCMP_ARCH_X86_64"
      | "SCMP_ARCH_X32"
      | "SCMP_ARCH_ARM"
      | "SCMP_ARCH_AARCH64"
      | "SCMP_ARCH_LOONGARCH64"
      | "SCMP_ARCH_M68K"
      | "SCMP_ARCH_MIPS"
      | "SCMP_ARCH_MIPS64"
      | "SCMP_ARCH_MIPS64N32"
      | "SCMP_ARCH_MIPSEL"
      | "SCMP_ARCH_MIPSEL64"
      | "SCMP_ARCH_MIPSEL64N32"
      | "SCMP_ARCH_PPC"
      | "SCMP_ARCH_PPC64"
      | "SCMP_ARCH_PPC64LE"
      | "SCMP_ARCH_S390"
      | "SCMP_ARCH_S390X"
      | "SCMP_ARCH_SH"
      | "SCMP_ARCH_SHEB"
      | "SCMP_ARCH_PARISC"
      | "SCMP_ARCH_PARISC64"
      | "SCMP_ARCH_RISCV64"
    )[];
    syscalls?: Syscall[];
  };
  sysctl?: MapStringString;
  maskedPaths?: ArrayOfStrings;
  readonlyPaths?: ArrayOfStrings;
  mountLabel?: string;
  intelRdt?: {
    closID?: string;
    schemata?: ArrayOfStrings;
    l3CacheSchema?: string;
    memBwSchema?: string;
    enableMonitoring?: boolean;
  };
  memoryPolicy?: {
    mode?:
      | "MPOL_DEFAULT"
      | "MPOL_BIND"
      | "MPOL_INTERLEAVE"
      | "MPOL_WEIGHTED_INTERLEAVE"
      | "MPOL_PREFERRED"
      | "MPOL_PREFERRED_MANY"
      | "MPOL_LOCAL";
    nodes?: string;
    flags?: ("MPOL_F_NUMA_BALANCING" | "MPOL_F_RELATIVE_NODES" | "MPOL_F_STATIC_NODES")[];
  };
  personality?: Personality;
  timeOffsets?: {
    boottime?: TimeOffsets;
    monotonic?: TimeOffsets;
  };
}
export interface Device {
  /**
   * Type of a block or special character device
   */
  type: string;
  path: string;
  /**
   * File permissions mode (in decimal, not octal)
   */
  fileMode?: number;
  /**
   * major device number
   */
  major?: number;
  /**
   * minor device number
   */
  minor?: number;
  uid?: number;
  gid?: number;
}
export interface NetDevice {
  name?: string;
}
export interface NamespaceReference {
  type: "mount" | "pid" | "network" | "uts" | "ipc" | "user" | "cgroup" | "time";
  path?: string;
}
export interface DeviceCgroup {
  allow: boolean;
  type?: string;
  /**
   * major device number
   */
  major?: number;
  /**
   * minor device number
   */
  minor?: number;
  access?: string;
}
export interface BlockIODevice {
  /**
   * major device number
   */
  major: number;
  /**
   * minor device number
   */
  minor: number;
}
export interface NetworkInterfacePriority {
  name: string;
  priority: number;
}
export interface Rdma {
  hcaHandles?: number;
  hcaObjects?: number;
}
export interface Syscall {
  /**
   * @minItems 1
   */
  names: [string, ...string[]];
  action:
    | "SCMP_ACT_KILL"
    | "SCMP_ACT_KILL_PROCESS"
    | "SCMP_ACT_KILL_THREAD"
    | "SCMP_ACT_TRAP"
    | "SCMP_ACT_ERRNO"
    | "SCMP_ACT_TRACE"
    | "SCMP_ACT_ALLOW"
    | "SCMP_ACT_LOG"
    | "SCMP_ACT_NOTIFY";
  errnoRet?: number;
  args?: SyscallArg[];
}
export interface SyscallArg {
  index: number;
  value: number;
  valueTwo?: number;
  op:
    | "SCMP_CMP_NE"
    | "SCMP_CMP_LT"
    | "SCMP_CMP_LE"
    | "SCMP_CMP_EQ"
    | "SCMP_CMP_GE"
    | "SCMP_CMP_GT"
    | "SCMP_CMP_MASKED_EQ";
}
export interface Personality {
  domain?: "LINUX" | "LINUX32";
  flags?: ArrayOfStrings;
}
export interface TimeOffsets {
  secs?: number;
  nanosecs?: number;
}
/**
 * Solaris platform-specific configurations
 */
export interface Solaris {
  milestone?: string;
  limitpriv?: string;
  maxShmMemory?: string;
  cappedCPU?: {
    ncpus?: string;
  };
  cappedMemory?: {
    physical?: string;
    swap?: string;
  };
  anet?: {
    linkname?: string;
    lowerLink?: string;
    allowedAddress?: string;
    configureAllowedAddress?: string;
    defrouter?: string;
    macAddress?: string;
    linkProtection?: string;
  }[];
}
/**
 * Windows platform-specific configurations
 */
export interface Windows {
  /**
   * @minItems 1
   */
  layerFolders: [string, ...string[]];
  devices?: Device1[];
  resources?: {
    memory?: {
      limit?: number;
    };
    cpu?: {
      count?: number;
      shares?: number;
      maximum?: number;
      affinity?: {
        mask?: number;
        group?: number;
      };
    };
    storage?: {
      iops?: number;
      bps?: number;
      sandboxSize?: number;
    };
  };
  network?: {
    endpointList?: ArrayOfStrings;
    allowUnqualifiedDNSQuery?: boolean;
    DNSSearchList?: ArrayOfStrings;
    networkSharedContainerName?: string;
    networkNamespace?: string;
  };
  credentialSpec?: {};
  servicing?: boolean;
  ignoreFlushesDuringBoot?: boolean;
  hyperv?: {
    utilityVMPath?: string;
  };
}
export interface Device1 {
  id: string;
  idType: "class";
}
/**
 * configuration for virtual-machine-based containers
 */
export interface Vm {
  /**
   * hypervisor config used by VM-based containers
   */
  hypervisor?: {
    path: string;
    parameters?: ArrayOfStrings;
  };
  /**
   * kernel config used by VM-based containers
   */
  kernel: {
    path: string;
    parameters?: ArrayOfStrings;
    initrd?: string;
  };
  /**
   * root image config used by VM-based containers
   */
  image?: {
    path: string;
    format: "raw" | "qcow2" | "vdi" | "vmdk" | "vhd";
  };
  /**
   * hardware configuration for the VM image
   */
  hwConfig?: {
    deviceTree?: string;
    vcpus?: number;
    memory?: number;
    dtdevs?: ArrayOfStrings;
    iomems?: IOMemEntryFormat[];
    irqs?: ArrayOfUint32;
  };
}
export interface IOMemEntryFormat {
  firstGFN?: number;
  firstMFN: number;
  nrMFNs: number;
}
/**
 * z/OS platform-specific configurations
 */
export interface Zos {
  namespaces?: NamespaceReference1[];
}
export interface NamespaceReference1 {
  type: "mount" | "pid" | "uts" | "ipc";
  path?: string;
}
/**
 * FreeBSD platform-specific configurations
 */
export interface Freebsd {
  devices?: Device2[];
  jail?: {
    parent?: string;
    host?: "new" | "inherit";
    ip4?: "disable" | "new" | "inherit";
    ip4Addr?: ArrayOfStrings;
    ip6?: "disable" | "new" | "inherit";
    ip6Addr?: ArrayOfStrings;
    vnet?: "new" | "inherit";
    interface?: string;
    vnetInterfaces?: ArrayOfStrings;
    sysvmsg?: "disable" | "new" | "inherit";
    sysvsem?: "disable" | "new" | "inherit";
    sysvshm?: "disable" | "new" | "inherit";
    enforceStatfs?: number;
    allow?: {
      setHostname?: boolean;
      rawSockets?: boolean;
      chflags?: boolean;
      mount?: ArrayOfStrings;
      quotas?: boolean;
      socketAf?: boolean;
      mlock?: boolean;
      reservedPorts?: boolean;
      suser?: boolean;
    };
  };
}
export interface Device2 {
  path?: string;
  /**
   * File permissions mode (in decimal, not octal)
   */
  mode?: number;
}
