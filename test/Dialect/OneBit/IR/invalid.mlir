// RUN: onebit-opt %s -split-input-file -verify-diagnostics

func.func @bad_word(%x: tensor<1x8xf32>, %s: tensor<1x1xi8>) -> tensor<1x1xf32> {
  // expected-error @+1 {{sign_packing word must be 8, 16, 32 or 64 bits, got 12}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 12, order = lsb_first, negative = 1>)
         : tensor<1x8xf32>, tensor<1x1xi8> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @bad_negative(%x: tensor<1x8xf32>, %s: tensor<1x1xi8>) -> tensor<1x1xf32> {
  // expected-error @+1 {{sign_packing negative must be the bit value 0 or 1, got 2}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 2>)
         : tensor<1x8xf32>, tensor<1x1xi8> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @bad_interleave(%x: tensor<1x8xf32>, %s: tensor<1x1xi8>) -> tensor<1x1xf32> {
  // expected-error @+1 {{sign_packing interleave must be at least 1}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1, interleave = 0>)
         : tensor<1x8xf32>, tensor<1x1xi8> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @bad_order(%x: tensor<1x8xf32>, %s: tensor<1x1xi8>) -> tensor<1x1xf32> {
  // expected-error @+2 {{expected one of [lsb_first, msb_first] for order of sign bits in a word, got: middle}}
  // expected-error @+1 {{failed to parse OneBit_SignPackingAttr parameter 'order'}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = middle, negative = 1>)
         : tensor<1x8xf32>, tensor<1x1xi8> -> tensor<1x1xf32>
  return %y : tensor<1x1xf32>
}

// -----

func.func @scalar_input(%x: tensor<f32>, %s: tensor<1x1xi8>) -> tensor<f32> {
  // expected-error @+1 {{'input' must have rank at least 1}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<f32>, tensor<1x1xi8> -> tensor<f32>
  return %y : tensor<f32>
}

// -----

func.func @rank_mismatch(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> tensor<1x2x4xf32> {
  // expected-error @+1 {{result must have the rank of 'input' (2), got 3}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<1x2x4xf32>
  return %y : tensor<1x2x4xf32>
}

// -----

func.func @element_mismatch(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> tensor<2x4xf16> {
  // expected-error @+1 {{result element type must match 'input' ('f32'), got 'f16'}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf16>
  return %y : tensor<2x4xf16>
}

// -----

func.func @dynamic_k(%x: tensor<2x?xf32>, %s: tensor<4x1xi8>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'input' must have a static last dimension (K)}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x?xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @dynamic_n(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> tensor<2x?xf32> {
  // expected-error @+1 {{result must have a static last dimension (N)}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x?xf32>
  return %y : tensor<2x?xf32>
}

// -----

func.func @batch_mismatch(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> tensor<3x4xf32> {
  // expected-error @+1 {{result dimension 0 must match 'input' ([2, 8] -> [3, 4])}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}

// -----

func.func @word_width(%x: tensor<2x8xf32>, %s: tensor<4x1xi16>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'signs' element type must be 8-bit integers to match the packing word, got 'i16'}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x8xf32>, tensor<4x1xi16> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @signs_shape(%x: tensor<2x17xf32>, %s: tensor<4x2xi8>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'signs' must have shape [4, 3] for 4 outputs x 17 inputs in this packing, got [4, 2]}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x17xf32>, tensor<4x2xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @interleave_divides(%x: tensor<2x8xf32>, %s: tensor<1x1x4xi8>) -> tensor<2x6xf32> {
  // expected-error @+1 {{has 6 outputs, not a multiple of the packing interleave 4}}
  %y = onebit.linear %x, %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1, interleave = 4>)
         : tensor<2x8xf32>, tensor<1x1x4xi8> -> tensor<2x6xf32>
  return %y : tensor<2x6xf32>
}

// -----

func.func @input_scale_size(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>, %g: tensor<4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'input_scale' must have 8 elements, got [4]}}
  %y = onebit.linear %x, %s input_scale(%g : tensor<4xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @output_scale_size(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>, %h: tensor<8xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'output_scale' must have 4 elements, got [8]}}
  %y = onebit.linear %x, %s output_scale(%h : tensor<8xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @bias_size(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>, %b: tensor<5xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'bias' must have 4 elements, got [5]}}
  %y = onebit.linear %x, %s bias(%b : tensor<5xf32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @scale_type(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>, %g: tensor<8xi32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{operand #2 must be 1D tensor of 16-bit float or bfloat16 type or 32-bit float values}}
  %y = onebit.linear %x, %s input_scale(%g : tensor<8xi32>)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @negative_epsilon(%x: tensor<2x8xf32>, %s: tensor<4x1xi8>) -> tensor<2x4xf32> {
  // expected-error @+1 {{norm epsilon must be a non-negative number}}
  %y = onebit.linear %x, %s norm(epsilon = -1.0)
         packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x8xf32>, tensor<4x1xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @pack_rank(%w: tensor<2x4x8xf32>) -> tensor<4x1xi8> {
  // expected-error @+1 {{'input' must be a static N x K matrix, got 'tensor<2x4x8xf32>'}}
  %s = onebit.pack_signs %w packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<2x4x8xf32> -> tensor<4x1xi8>
  return %s : tensor<4x1xi8>
}

// -----

func.func @pack_shape(%w: tensor<4x9xf32>) -> tensor<4x1xi8> {
  // expected-error @+1 {{'result' must have shape [4, 2] for 4 outputs x 9 inputs in this packing, got [4, 1]}}
  %s = onebit.pack_signs %w packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<4x9xf32> -> tensor<4x1xi8>
  return %s : tensor<4x1xi8>
}

// -----

func.func @unpack_rank(%s: tensor<4x1xi8>) -> tensor<?x8xf32> {
  // expected-error @+1 {{result must be a static N x K matrix, got 'tensor<?x8xf32>'}}
  %w = onebit.unpack_signs %s packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         : tensor<4x1xi8> -> tensor<?x8xf32>
  return %w : tensor<?x8xf32>
}

// -----

func.func @unpack_width(%s: tensor<4x1xi8>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'input' element type must be 32-bit integers to match the packing word, got 'i8'}}
  %w = onebit.unpack_signs %s packing(#onebit.sign_packing<word = 32, order = lsb_first, negative = 1>)
         : tensor<4x1xi8> -> tensor<4x8xf32>
  return %w : tensor<4x8xf32>
}

// -----

func.func @repack_dynamic(%s: tensor<?x1xi8>) -> tensor<4x1xi8> {
  // expected-error @+1 {{'input' must be a static packed sign tensor, got 'tensor<?x1xi8>'}}
  %r = onebit.repack %s in_features(8)
         from(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         to(#onebit.sign_packing<word = 8, order = msb_first, negative = 1>)
         : tensor<?x1xi8> -> tensor<4x1xi8>
  return %r : tensor<4x1xi8>
}

// -----

func.func @repack_source(%s: tensor<4x1xi8>) -> tensor<4x1xi8> {
  // expected-error @+1 {{'input' must have shape [4, 2] for 4 outputs x 9 inputs in this packing, got [4, 1]}}
  %r = onebit.repack %s in_features(9)
         from(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         to(#onebit.sign_packing<word = 8, order = msb_first, negative = 1>)
         : tensor<4x1xi8> -> tensor<4x1xi8>
  return %r : tensor<4x1xi8>
}

// -----

func.func @repack_target(%s: tensor<4x1xi8>) -> tensor<4x1xi16> {
  // expected-error @+1 {{'result' must have shape [2, 1, 2] for 4 outputs x 8 inputs in this packing, got [4, 1]}}
  %r = onebit.repack %s in_features(8)
         from(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         to(#onebit.sign_packing<word = 16, order = lsb_first, negative = 1, interleave = 2>)
         : tensor<4x1xi8> -> tensor<4x1xi16>
  return %r : tensor<4x1xi16>
}

// -----

func.func @repack_in_features(%s: tensor<4x1xi8>) -> tensor<4x1xi8> {
  // expected-error @+1 {{attribute 'in_features' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  %r = onebit.repack %s in_features(0)
         from(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
         to(#onebit.sign_packing<word = 8, order = msb_first, negative = 1>)
         : tensor<4x1xi8> -> tensor<4x1xi8>
  return %r : tensor<4x1xi8>
}

// -----

func.func @attention_grouped_heads(%q: tensor<1x4x1x8xf32>, %k: tensor<1x3x1x8xf32>, %v: tensor<1x3x1x8xf32>, %p: tensor<1xi64>, %i: tensor<1x4x1x8xf32>, %kc: tensor<1x3x?x8xf32>, %vc: tensor<1x3x?x8xf32>) {
  // expected-error @+1 {{query heads (4) must be a multiple of key/value heads (3)}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %p : tensor<1x4x1x8xf32>, tensor<1x3x1x8xf32>, tensor<1x3x1x8xf32>, tensor<1xi64>) outs(%i, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x3x?x8xf32>, tensor<1x3x?x8xf32>) scale(0.5) -> tensor<1x4x1x8xf32>, tensor<1x3x?x8xf32>, tensor<1x3x?x8xf32>
  return
}

// -----

func.func @attention_dynamic_query(%q: tensor<1x4x?x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %p: tensor<1xi64>, %i: tensor<1x4x?x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) {
  // expected-error @+1 {{'query' dimension 2 must be static}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %p : tensor<1x4x?x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) outs(%i, %kc, %vc : tensor<1x4x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) -> tensor<1x4x?x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return
}

// -----

func.func @attention_cache_shape(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %p: tensor<1xi64>, %i: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x4xf32>, %vc: tensor<1x2x?x4xf32>) {
  // expected-error @+1 {{caches must be [1, 2, rows, 8]}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %p : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) outs(%i, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>) scale(0.5) -> tensor<1x4x1x8xf32>, tensor<1x2x?x4xf32>, tensor<1x2x?x4xf32>
  return
}

// -----

func.func @attention_position(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %p: tensor<2xi64>, %i: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) {
  // expected-error @+1 {{'position' must hold one integer, got 'tensor<2xi64>'}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %p : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<2xi64>) outs(%i, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return
}

// -----

func.func @attention_element_type(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf16>, %v: tensor<1x2x1x8xf32>, %p: tensor<1xi64>, %i: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) {
  // expected-error @+1 {{'key' must hold 'f32' like 'query', got 'f16'}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %p : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf16>, tensor<1x2x1x8xf32>, tensor<1xi64>) outs(%i, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return
}

// -----

func.func @attention_mask_shape(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %p: tensor<1xi64>, %i: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>, %m: tensor<2x2xf32>) {
  // expected-error @+1 {{'mask' must be 1x1 f32 (among the new positions), got 'tensor<2x2xf32>'}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %p mask %m : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>, tensor<2x2xf32>) outs(%i, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return
}

// -----

func.func @attention_schedule_lanes(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %p: tensor<1xi64>, %i: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) {
  // expected-error @+1 {{holds rows of 16 elements, but the head dimension is 8}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %p : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) outs(%i, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) schedule(#onebit.gpu_attention_schedule<splits = 4, warps = 2, lanes_per_row = 2, rows_in_flight = 4>) -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return
}

// -----

func.func @attention_schedule_range(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %p: tensor<1xi64>, %i: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) {
  // expected-error @+1 {{cpu_attention_schedule row_block must be 1..64, got 0}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %p : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) outs(%i, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) schedule(#onebit.cpu_attention_schedule<row_block = 0, query_tile = 1>) -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return
}

// -----

func.func @gpu_attention_schedule_range(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %p: tensor<1xi64>, %i: tensor<1x4x1x8xf32>, %kc: tensor<1x2x?x8xf32>, %vc: tensor<1x2x?x8xf32>) {
  // expected-error @+1 {{gpu_attention_schedule rows_in_flight must be 1..8, got 9}}
  %o:3 = onebit.cached_attention ins(%q, %k, %v, %p : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1xi64>) outs(%i, %kc, %vc : tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>) scale(0.5) schedule(#onebit.gpu_attention_schedule<splits = 4, warps = 2, lanes_per_row = 1, rows_in_flight = 9>) -> tensor<1x4x1x8xf32>, tensor<1x2x?x8xf32>, tensor<1x2x?x8xf32>
  return
}

// -----

// expected-error @+1 {{gpu_sign_mma_schedule k_split must be 1, 2 or 4, got 3}}
func.func private @mma_k_split() attributes {s = #onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 1, k_split = 3, words = 4, chunk = 4096, loads_ahead = 2>}

// -----

// expected-error @+1 {{gpu_sign_mma_schedule bit_classes is set with the bit_classes decoding, and only then}}
func.func private @mma_classes_missing() attributes {s = #onebit.gpu_sign_mma_schedule<decoding = bit_classes, row_tiles = 1, k_split = 1, words = 4, chunk = 4096, loads_ahead = 2>}

// -----

// expected-error @+1 {{gpu_sign_mma_schedule bit_classes must be 2, 4, 8 or 16, got 3}}
func.func private @mma_classes_range() attributes {s = #onebit.gpu_sign_mma_schedule<decoding = bit_classes, row_tiles = 1, k_split = 1, words = 4, chunk = 4096, loads_ahead = 2, bit_classes = 3>}

// -----

// expected-error @+1 {{gpu_sign_mma_schedule row_tiles must be 1 with the byte_classes decoding}}
func.func private @mma_digit_tiles() attributes {s = #onebit.gpu_sign_mma_schedule<decoding = byte_classes, row_tiles = 2, k_split = 1, words = 4, chunk = 4096, loads_ahead = 2>}

// -----

// expected-error @+1 {{gpu_sign_mma_schedule k_split must be 1 with the byte_classes decoding}}
func.func private @mma_digit_split() attributes {s = #onebit.gpu_sign_mma_schedule<decoding = byte_classes, row_tiles = 1, k_split = 2, words = 4, chunk = 4096, loads_ahead = 2>}

// -----

// expected-error @+1 {{gpu_sign_mma_schedule direct_fragments needs the shifted_pairs decoding and one word}}
func.func private @mma_direct_words() attributes {s = #onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 2, k_split = 1, words = 4, chunk = 4096, loads_ahead = 2, direct_fragments = true>}

// -----

// expected-error @+1 {{gpu_sign_mma_schedule loads_ahead must be 1..8, got 0}}
func.func private @mma_loads() attributes {s = #onebit.gpu_sign_mma_schedule<decoding = shifted_pairs, row_tiles = 1, k_split = 1, words = 4, chunk = 4096, loads_ahead = 0>}

// -----

// expected-error @+1 {{gpu_sign_gemv_schedule rows_per_step must be 1..8, got 9}}
func.func private @gemv_rows() attributes {s = #onebit.gpu_sign_gemv_schedule<words = 4, rows_per_step = 9, grid_size = 1, staged = true>}

// -----

// expected-error @+1 {{gpu_sign_gemv_schedule words must be 1, 2 or 4, got 8}}
func.func private @gemv_words() attributes {s = #onebit.gpu_sign_gemv_schedule<words = 8, rows_per_step = 1, grid_size = 1, staged = false>}

// -----

// expected-error @+1 {{cpu_sign_vector_schedule tile_rows must be 1..64, got 0}}
func.func private @vector_tile_rows() attributes {s = #onebit.cpu_sign_vector_schedule<tile_rows = 0, block_rows = 4, chunk_bytes = 2, masked_adds = false>}

// -----

// expected-error @+1 {{cpu_sign_vector_schedule block_rows must be 1..64, got 65}}
func.func private @vector_block_rows() attributes {s = #onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 65, chunk_bytes = 2, masked_adds = false>}

// -----

// expected-error @+1 {{cpu_sign_vector_schedule chunk_bytes must be 1 or 2, got 4}}
func.func private @vector_chunk_bytes() attributes {s = #onebit.cpu_sign_vector_schedule<tile_rows = 1, block_rows = 8, chunk_bytes = 4, masked_adds = true>}

// -----

// expected-error @+1 {{cpu_sign_lookup_schedule tile_rows must be 1..64, got 65}}
func.func private @lookup_tile_rows() attributes {s = #onebit.cpu_sign_lookup_schedule<tile_rows = 65, index_vectors = 2>}

// -----

// expected-error @+1 {{cpu_sign_lookup_schedule index_vectors must be 1, 2 or 4, got 3}}
func.func private @lookup_index_vectors() attributes {s = #onebit.cpu_sign_lookup_schedule<tile_rows = 1, index_vectors = 3>}

// -----

func.func @product_attention_schedule(%x: tensor<1x256xf16>, %s: tensor<8x32xi8>, %y: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{attribute 'schedule' failed to satisfy constraint}}
  %r = onebit.packed_sign_product ins(%x, %s : tensor<1x256xf16>, tensor<8x32xi8>) outs(%y : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) schedule(#onebit.gpu_attention_schedule<splits = 1, warps = 1, lanes_per_row = 1, rows_in_flight = 1>) -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}

// -----

func.func @product_signs_shape(%x: tensor<1x256xf16>, %s: tensor<8x16xi8>, %y: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{'signs' 'tensor<8x16xi8>' is not the packing of an 8 x 256 sign matrix}}
  %r = onebit.packed_sign_product ins(%x, %s : tensor<1x256xf16>, tensor<8x16xi8>) outs(%y : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}

// -----

func.func @product_rows(%x: tensor<2x256xf16>, %s: tensor<8x32xi8>, %y: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{'init' has 1 rows, 'input' 2}}
  %r = onebit.packed_sign_product ins(%x, %s : tensor<2x256xf16>, tensor<8x32xi8>) outs(%y : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}

// -----

func.func @product_mixed(%x: tensor<1x256xf16>, %s: tensor<8x32xi8>, %y: memref<1x8xf32>) {
  // expected-error @+1 {{operands must be all tensors or all memrefs}}
  onebit.packed_sign_product ins(%x, %s : tensor<1x256xf16>, tensor<8x32xi8>) outs(%y : memref<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>)
  return
}

// -----

func.func @product_result_type(%x: tensor<1x256xf16>, %s: tensor<8x32xi8>, %y: tensor<1x8xf32>) -> tensor<1x8xf16> {
  // expected-error @+1 {{has one result of the type of 'init'}}
  %r = onebit.packed_sign_product ins(%x, %s : tensor<1x256xf16>, tensor<8x32xi8>) outs(%y : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) -> tensor<1x8xf16>
  return %r : tensor<1x8xf16>
}

// -----

func.func @product_word_type(%x: tensor<1x256xf16>, %s: tensor<8x8xi32>, %y: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{'signs' must hold i8 words, as its packing says}}
  %r = onebit.packed_sign_product ins(%x, %s : tensor<1x256xf16>, tensor<8x8xi32>) outs(%y : tensor<1x8xf32>) packing(#onebit.sign_packing<word = 8, order = lsb_first, negative = 1>) -> tensor<1x8xf32>
  return %r : tensor<1x8xf32>
}
