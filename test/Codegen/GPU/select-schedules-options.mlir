// RUN: not onebit-opt %s -onebit-gpu-select-schedules=mma-row-tiles=5 2>&1 | FileCheck %s --check-prefix=TILES
// RUN: not onebit-opt %s -onebit-gpu-select-schedules=mma-min-grid-size=0 2>&1 | FileCheck %s --check-prefix=MMA
// RUN: not onebit-opt %s -onebit-gpu-select-schedules=mma-min-rows=0 2>&1 | FileCheck %s --check-prefix=MMA
// RUN: not onebit-opt %s -onebit-gpu-select-schedules=mma-bit-classes=3 2>&1 | FileCheck %s --check-prefix=CLASSES
// RUN: not onebit-opt %s -onebit-gpu-select-schedules=mma-bit-classes=32 2>&1 | FileCheck %s --check-prefix=CLASSES
// RUN: not onebit-opt %s -onebit-gpu-select-schedules=mma-loads-ahead=9 2>&1 | FileCheck %s --check-prefix=CLASSES
// RUN: not onebit-opt %s -onebit-gpu-select-schedules=gemv-rows-per-step=0 2>&1 | FileCheck %s --check-prefix=GEMV
// RUN: not onebit-opt %s -onebit-gpu-select-schedules=gemv-max-grid-size=0 2>&1 | FileCheck %s --check-prefix=GEMV
// RUN: not onebit-opt %s -onebit-gpu-select-schedules=attention-blocks=0 2>&1 | FileCheck %s --check-prefix=ATTENTION
// RUN: not onebit-opt %s -onebit-gpu-select-schedules=attention-warps=9 2>&1 | FileCheck %s --check-prefix=ATTENTION

// Options no kernel can take are rejected, not miscompiled (the same
// check as onebit-compile's flags).
// TILES: error: onebit-gpu-select-schedules: mma-row-tiles must be 0..4
// MMA: error: onebit-gpu-select-schedules: mma-min-rows and mma-min-grid-size must be at least 1
// CLASSES: error: onebit-gpu-select-schedules: mma-bit-classes must be 2, 4, 8 or 16 and mma-loads-ahead 1..8
// GEMV: error: onebit-gpu-select-schedules: gemv-rows-per-step must be 1..8 and gemv-max-grid-size at least 1
// ATTENTION: error: onebit-gpu-select-schedules: attention-warps and attention-rows-in-flight must be 1..8 and attention-blocks at least 1
func.func @any() {
  return
}
