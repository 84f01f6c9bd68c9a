//===- AttentionMatch.cpp - attention over a key/value cache in TOSA ------===//
//
// Exporters move the keys through different chains of reshapes and
// transposes before the scores' matmul (and TOSA's matmul is 3-D, so every
// 4-D product is wrapped in reshapes). Rather than matching op sequences,
// the matcher follows each operand from its source and tracks which source
// dimensions each of its dimensions spans (a Layout); at the matmuls it
// checks that the contraction and the batch pair what attention pairs.
//
//===----------------------------------------------------------------------===//

#include "AttentionMatch.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tosa/IR/TosaOps.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::onebit;

namespace {

/// A run of a source dimension: index i of the atom stands for source
/// index i * stride (plus the inner atoms' share). Source -1 is a
/// broadcast: every index reads the same source element.
struct Atom {
  int64_t source, stride, size;
  bool operator==(const Atom &other) const {
    return source == other.source && size == other.size &&
           (source < 0 || stride == other.stride);
  }
};

/// Each dimension of a tensor as the atoms it spans, outermost first
/// (dimensions of size 1 span none).
class Layout {
public:
  static Layout identity(ArrayRef<int64_t> shape) {
    Layout layout;
    for (auto [index, size] : llvm::enumerate(shape)) {
      layout.dims.emplace_back();
      if (size != 1)
        layout.dims.back().push_back({int64_t(index), 1, size});
    }
    return layout;
  }

  /// Regroups the atoms into `shape`, splitting an atom where a new
  /// dimension ends inside it. Fails where sizes do not line up.
  bool reshape(ArrayRef<int64_t> shape) {
    SmallVector<Atom> flat;
    for (const SmallVector<Atom> &dim : dims)
      flat.append(dim.begin(), dim.end());
    SmallVector<SmallVector<Atom>> result;
    size_t next = 0;
    for (int64_t size : shape) {
      SmallVector<Atom> dim;
      int64_t need = size;
      while (need > 1) {
        if (next == flat.size())
          return false;
        Atom &atom = flat[next];
        if (atom.size <= need) {
          if (need % atom.size != 0)
            return false;
          dim.push_back(atom);
          need /= atom.size;
          ++next;
          continue;
        }
        if (atom.size % need != 0)
          return false;
        int64_t inner = atom.size / need;
        dim.push_back({atom.source, atom.stride * inner, need});
        atom = {atom.source, atom.stride, inner};
        need = 1;
      }
      result.push_back(dim);
    }
    if (next != flat.size())
      return false;
    dims = std::move(result);
    return true;
  }

  bool transpose(ArrayRef<int32_t> perms) {
    if (perms.size() != dims.size())
      return false;
    SmallVector<SmallVector<Atom>> result;
    for (int32_t perm : perms)
      result.push_back(dims[perm]);
    dims = std::move(result);
    return true;
  }

  /// A tile that only repeats dimensions of size 1 (a broadcast).
  bool tile(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
    for (auto [index, sizes] : llvm::enumerate(llvm::zip(from, to))) {
      auto [before, after] = sizes;
      if (before == after)
        continue;
      if (before != 1)
        return false;
      dims[index] = {{-1, 1, after}};
    }
    return true;
  }

  /// Dimension `index` with adjacent runs of one source dimension merged.
  SmallVector<Atom> get(unsigned index) const {
    SmallVector<Atom> merged;
    for (const Atom &atom : dims[index]) {
      if (!merged.empty() && merged.back().source == atom.source &&
          (atom.source < 0 ||
           merged.back().stride == atom.stride * atom.size)) {
        merged.back().size *= atom.size;
        merged.back().stride = atom.stride;
        continue;
      }
      merged.push_back(atom);
    }
    return merged;
  }

  /// Whether dimension `index` spans exactly `expected` (atoms of size 1
  /// stand for nothing).
  bool spans(unsigned index, ArrayRef<Atom> expected) const {
    SmallVector<Atom> wanted;
    for (const Atom &atom : expected)
      if (atom.size != 1)
        wanted.push_back(atom);
    return index < dims.size() && get(index) == ArrayRef<Atom>(wanted);
  }

  unsigned getRank() const { return dims.size(); }

private:
  SmallVector<SmallVector<Atom>> dims;
};

ArrayRef<int64_t> getShape(Value value) {
  return cast<ShapedType>(value.getType()).getShape();
}

/// The value of a splat float constant (through reshapes and a
/// reciprocal), as a scalar factor.
std::optional<double> getConstantFactor(Value value) {
  bool reciprocal = false;
  while (true) {
    if (auto reshape = value.getDefiningOp<tosa::ReshapeOp>()) {
      value = reshape.getInput1();
    } else if (auto inverse = value.getDefiningOp<tosa::ReciprocalOp>()) {
      value = inverse.getInput1();
      reciprocal = !reciprocal;
    } else {
      break;
    }
  }
  DenseElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.isSplat() ||
      !isa<FloatType>(attr.getElementType()))
    return std::nullopt;
  double factor = attr.getSplatValue<APFloat>().convertToDouble();
  if (reciprocal)
    factor = 1.0 / factor;
  return factor;
}

/// A value followed from its source: where it is, how its dimensions map
/// to the source's, and the constant factors met on the way.
struct Walk {
  Value value;
  Layout layout;
  double scale = 1.0;

  /// Steps through `op`, one of data movement (reshape, transpose, a
  /// broadcast tile), a float cast, or a product with a constant factor
  /// that keeps the shape. Returns false for anything else.
  bool step(Operation *op) {
    Value result = op->getNumResults() == 1 ? op->getResult(0) : Value();
    if (!result)
      return false;
    if (auto reshape = dyn_cast<tosa::ReshapeOp>(op)) {
      if (reshape.getInput1() != value || !layout.reshape(getShape(result)))
        return false;
    } else if (auto transpose = dyn_cast<tosa::TransposeOp>(op)) {
      if (transpose.getInput1() != value ||
          !layout.transpose(transpose.getPerms()))
        return false;
    } else if (auto tile = dyn_cast<tosa::TileOp>(op)) {
      if (tile.getInput1() != value ||
          !layout.tile(getShape(value), getShape(result)))
        return false;
    } else if (auto cast = dyn_cast<tosa::CastOp>(op)) {
      if (!isa<FloatType>(getElementTypeOrSelf(result.getType())))
        return false;
    } else if (auto mul = dyn_cast<tosa::MulOp>(op)) {
      Value other =
          mul.getInput1() == value ? mul.getInput2() : mul.getInput1();
      std::optional<double> factor = getConstantFactor(other);
      if (!factor || getShape(result) != getShape(value))
        return false;
      scale *= *factor;
    } else {
      return false;
    }
    value = result;
    return true;
  }
};

/// The one op that reads `value`, graph outputs aside (a `present` output
/// reads the Concat too); null if there are several.
Operation *getOnlyUser(Value value) {
  Operation *only = nullptr;
  for (Operation *user : value.getUsers()) {
    if (isa<func::ReturnOp>(user))
      continue;
    if (only && only != user)
      return nullptr;
    only = user;
  }
  return only;
}

/// Whether `value` is a float zero, maybe reshaped.
bool isZeroConstant(Value value) {
  while (auto reshape = value.getDefiningOp<tosa::ReshapeOp>())
    value = reshape.getInput1();
  DenseElementsAttr zero;
  return matchPattern(value, m_Constant(&zero)) && zero.isSplat() &&
         isa<FloatType>(zero.getElementType()) &&
         zero.getSplatValue<APFloat>().isZero();
}

/// The result of `select(isnan(p), 0, p)` (or, canonicalized,
/// `select(p == p, p, 0)`) where that is the only use of `value` besides
/// the NaN test: Hugging Face's SDPA export after the softmax, for rows
/// that are all masked (none are in causal decoding).
Value skipNaNGuard(Value value) {
  tosa::SelectOp select;
  tosa::EqualOp equal;
  for (Operation *user : value.getUsers()) {
    if (auto candidate = dyn_cast<tosa::EqualOp>(user);
        candidate && candidate.getInput1() == value &&
        candidate.getInput2() == value && (!equal || equal == candidate))
      equal = candidate; // a use per operand
    else if (auto candidate = dyn_cast<tosa::SelectOp>(user);
             candidate && !select)
      select = candidate;
    else
      return {};
  }
  if (!select || !equal || select.getType() != value.getType())
    return {};
  Value pred = select.getPred();
  auto isNaN = pred.getDefiningOp<tosa::LogicalNotOp>();
  bool guarded =
      (pred == equal.getResult() && select.getOnTrue() == value &&
       isZeroConstant(select.getOnFalse())) ||
      (isNaN && isNaN.getInput1() == equal.getResult() &&
       select.getOnFalse() == value && isZeroConstant(select.getOnTrue()));
  return guarded ? select.getResult() : Value();
}

/// A matcher that remembers where it stopped and why.
struct Matcher {
  Operation *&where;
  std::string &why;

  LogicalResult fail(Operation *op, const Twine &reason) {
    where = op;
    why = reason.str();
    return failure();
  }

  /// Follows `walk` through data movement until a matmul reads it as
  /// operand `operand` (0: A, 1: B).
  FailureOr<tosa::MatMulOp> walkToMatmul(Walk &walk, unsigned operand,
                                         StringRef what) {
    while (true) {
      if (Value guarded = skipNaNGuard(walk.value))
        walk.value = guarded;
      Operation *user = getOnlyUser(walk.value);
      if (!user)
        return fail(walk.value.getDefiningOp(),
                    what + " are read by more than one op");
      if (auto matmul = dyn_cast<tosa::MatMulOp>(user)) {
        if (matmul->getOperand(operand) != walk.value)
          return fail(matmul, what + " reach a matmul as the wrong operand");
        return matmul;
      }
      if (!walk.step(user))
        return fail(user, "expected data movement or a constant factor on "
                          "the way from the " +
                              what + " to their matmul");
    }
  }

  /// The keys or values of the cache: `past` must feed only
  /// Concat(past, new) along the rows.
  FailureOr<tosa::ConcatOp> matchConcat(Value past, StringRef what) {
    tosa::ConcatOp concat;
    for (Operation *user : past.getUsers()) {
      auto candidate = dyn_cast<tosa::ConcatOp>(user);
      if (!candidate || concat)
        return fail(user, "the past " + what +
                              " must be read only by one Concat with the new "
                              "rows");
      concat = candidate;
    }
    if (!concat)
      return fail(past.getParentBlock()->getParentOp(),
                  "the past " + what + " are not read");
    auto type = cast<RankedTensorType>(concat.getType());
    if (concat.getInput1().size() != 2 || concat.getInput1()[0] != past ||
        concat.getAxis() != 2 || type.getRank() != 4)
      return fail(concat, "expected Concat(past, new) of the " + what +
                              " along their rows (axis 2 of [batch, heads, "
                              "rows, head_dim])");
    return concat;
  }
};

} // namespace

FailureOr<CachedAttentionMatch>
mlir::onebit::matchCachedAttention(Value pastKey, Value pastValue,
                                   Operation *&where, std::string &why) {
  Matcher m{where, why};
  FailureOr<tosa::ConcatOp> keyConcat = m.matchConcat(pastKey, "keys");
  if (failed(keyConcat))
    return failure();
  FailureOr<tosa::ConcatOp> valueConcat = m.matchConcat(pastValue, "values");
  if (failed(valueConcat))
    return failure();
  ArrayRef<int64_t> cache = getShape(keyConcat->getResult());
  int64_t batch = cache[0], kvHeads = cache[1], rows = cache[2],
          headDim = cache[3];
  if (getShape(valueConcat->getResult()) != cache)
    return m.fail(*valueConcat, "keys and values differ in shape");

  // Keys: [B, Hkv, S, D] to the scores' B operand [B·Hq, D, S].
  Walk keys{keyConcat->getResult(), Layout::identity(cache)};
  FailureOr<tosa::MatMulOp> scores = m.walkToMatmul(keys, 1, "keys");
  if (failed(scores))
    return failure();

  // Queries: back from the A operand to where data movement began.
  SmallVector<Operation *> chain;
  Value query = scores->getA();
  while (Operation *def = query.getDefiningOp()) {
    Value moved;
    if (isa<tosa::ReshapeOp, tosa::TransposeOp, tosa::TileOp, tosa::CastOp>(
            def)) {
      moved = def->getOperand(0);
    } else if (auto mul = dyn_cast<tosa::MulOp>(def)) {
      if (getConstantFactor(mul.getInput2()))
        moved = mul.getInput1();
      else if (getConstantFactor(mul.getInput1()))
        moved = mul.getInput2();
    }
    if (!moved)
      break;
    chain.push_back(def);
    query = moved;
  }
  ArrayRef<int64_t> queryShape = getShape(query);
  if (queryShape.size() != 4)
    return m.fail(scores->getA().getDefiningOp()
                      ? scores->getA().getDefiningOp()
                      : scores->getOperation(),
                  "the queries must come from a [batch, heads, rows, "
                  "head_dim] tensor");
  Walk queries{query, Layout::identity(queryShape)};
  for (Operation *op : llvm::reverse(chain))
    if (!queries.step(op))
      return m.fail(op, "cannot follow the queries through this op");
  int64_t heads = queryShape[1], newRows = queryShape[2];
  if (queryShape[0] != batch || queryShape[3] != headDim || kvHeads < 1 ||
      heads % kvHeads != 0)
    return m.fail(*scores, "queries and cached keys do not pair up");
  int64_t group = heads / kvHeads;
  Atom b{0, 1, batch}, hq{1, 1, heads}, hkv{1, 1, kvHeads}, g{-1, 1, group},
      t{2, 1, newRows}, s{2, 1, rows}, d{3, 1, headDim};
  if (!queries.layout.spans(0, {b, hq}) || !queries.layout.spans(1, {t}) ||
      !queries.layout.spans(2, {d}))
    return m.fail(*scores, "the scores' matmul does not read the queries as "
                           "[batch · heads, rows, head_dim]");
  if (!keys.layout.spans(0, {b, hkv, g}) || !keys.layout.spans(1, {d}) ||
      !keys.layout.spans(2, {s}))
    return m.fail(*scores, "the scores' matmul does not read the cached keys "
                           "as [batch · heads, head_dim, rows] (each key "
                           "head repeated for its group of query heads)");

  // Scores [B·Hq, T, S], in the logical space [B, Hq, T, S], to the softmax.
  Atom sb{0, 1, batch}, sh{1, 1, heads}, st{2, 1, newRows}, ss{3, 1, rows};
  Walk probs{scores->getResult(), Layout::identity({batch, heads, newRows,
                                                    rows})};
  if (!probs.layout.reshape(getShape(scores->getResult())))
    return m.fail(*scores, "unexpected shape of the scores");
  double scale = queries.scale * keys.scale;
  tosa::ReduceMaxOp reduceMax;
  while (!reduceMax) {
    Value x = probs.value;
    SmallVector<Operation *> users(x.getUsers());
    if (users.size() == 2)
      for (auto [first, second] : {std::pair{users[0], users[1]},
                                   std::pair{users[1], users[0]}})
        if (auto max = dyn_cast<tosa::ReduceMaxOp>(first))
          if (auto sub = dyn_cast<tosa::SubOp>(second))
            if (sub.getInput1() == x && sub.getInput2() == max.getResult())
              reduceMax = max;
    if (reduceMax)
      break;
    Operation *user = getOnlyUser(x);
    if (!user)
      return m.fail(x.getDefiningOp(), "the scores are read by more than "
                                       "one op before the softmax");
    if (auto add = dyn_cast<tosa::AddOp>(user)) {
      // The mask (its meaning: see onebit-resident-kv-cache).
      if (getShape(add.getResult()) != getShape(x))
        return m.fail(add, "a term added to the scores changes their shape");
      probs.value = add.getResult();
      continue;
    }
    if (!probs.step(user))
      return m.fail(user, "expected the scale, the mask or the softmax after "
                          "the scores' matmul");
  }
  scale *= probs.scale;
  probs.scale = 1.0;
  if (!probs.layout.spans(reduceMax.getAxis(), {ss}))
    return m.fail(reduceMax, "the softmax does not run over the cached rows");
  // softmax: exp(x - max) * reciprocal(sum(exp(x - max)))
  Operation *sub = *llvm::find_if(probs.value.getUsers(), [](Operation *op) {
    return isa<tosa::SubOp>(op);
  });
  auto exp = dyn_cast_or_null<tosa::ExpOp>(getOnlyUser(sub->getResult(0)));
  if (!exp)
    return m.fail(sub, "expected the exponentials of the softmax");
  tosa::ReduceSumOp sum;
  tosa::MulOp normalized;
  for (Operation *user : exp->getUsers()) {
    if (auto reduce = dyn_cast<tosa::ReduceSumOp>(user))
      sum = reduce;
    else if (auto mul = dyn_cast<tosa::MulOp>(user))
      normalized = mul;
  }
  if (!sum || !normalized || sum.getAxis() != reduceMax.getAxis() ||
      llvm::range_size(exp->getUsers()) != 2)
    return m.fail(exp, "expected the softmax's sum over the same rows");
  auto reciprocal =
      normalized->getOperand(0) == exp.getResult()
          ? normalized->getOperand(1).getDefiningOp<tosa::ReciprocalOp>()
          : normalized->getOperand(0).getDefiningOp<tosa::ReciprocalOp>();
  if (!reciprocal || reciprocal.getInput1() != sum.getResult())
    return m.fail(normalized, "expected the softmax's normalization");
  probs.value = normalized.getResult();

  // Probabilities [B·Hq, T, S] times values [B·Hq, S, D].
  FailureOr<tosa::MatMulOp> context =
      m.walkToMatmul(probs, 0, "probabilities");
  if (failed(context))
    return failure();
  if (!probs.layout.spans(0, {sb, sh}) || !probs.layout.spans(1, {st}) ||
      !probs.layout.spans(2, {ss}))
    return m.fail(*context, "the values' matmul does not read the "
                            "probabilities as [batch · heads, rows, rows]");
  if (probs.scale != 1.0)
    return m.fail(*context, "the probabilities are scaled");
  Walk values{valueConcat->getResult(), Layout::identity(cache)};
  FailureOr<tosa::MatMulOp> valueMatmul = m.walkToMatmul(values, 1, "values");
  if (failed(valueMatmul))
    return failure();
  if (*valueMatmul != *context)
    return m.fail(*valueMatmul, "the cached values meet other weights than "
                                "the attention's probabilities");
  if (!values.layout.spans(0, {b, hkv, g}) || !values.layout.spans(1, {s}) ||
      !values.layout.spans(2, {d}) || values.scale != 1.0)
    return m.fail(*context, "the values' matmul does not read the cached "
                            "values as [batch · heads, rows, head_dim]");

  CachedAttentionMatch match;
  match.query = query;
  match.newKey = keyConcat->getInput1()[1];
  match.newValue = valueConcat->getInput1()[1];
  match.scale = scale;
  match.output = context->getResult();
  return match;
}
