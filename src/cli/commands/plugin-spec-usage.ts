/** The input `berth plugin spec` reads (shared by the command and its loaded-on-demand work). */
export const USAGE =
  '{"rootfs": "/abs/rootfs", "execRoot": "/abs/dir", "plugin": <Engine API Plugin object>}';
