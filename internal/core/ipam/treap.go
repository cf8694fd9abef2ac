package ipam

// treap is an ordered map from u128 keys to values: a binary search tree
// kept balanced in expectation by heap-ordered pseudo-random priorities.
// The priorities come from a fixed-seed generator, so the tree shape (never
// the results) depends only on the sequence of operations.
type treap[V any] struct {
	root *tnode[V]
	rng  uint64
	size int
}

type tnode[V any] struct {
	key         u128
	val         V
	prio        uint64
	left, right *tnode[V]
}

// nextPrio is splitmix64.
func (t *treap[V]) nextPrio() uint64 {
	t.rng += 0x9e3779b97f4a7c15
	z := t.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (t *treap[V]) len() int { return t.size }

// min returns the node with the smallest key, or nil.
func (t *treap[V]) min() *tnode[V] {
	n := t.root
	if n == nil {
		return nil
	}
	for n.left != nil {
		n = n.left
	}
	return n
}

// floor returns the node with the greatest key <= k, or nil.
func (t *treap[V]) floor(k u128) *tnode[V] {
	var best *tnode[V]
	for n := t.root; n != nil; {
		if k.less(n.key) {
			n = n.left
		} else {
			best = n
			n = n.right
		}
	}
	return best
}

// ceil returns the node with the smallest key >= k, or nil.
func (t *treap[V]) ceil(k u128) *tnode[V] {
	var best *tnode[V]
	for n := t.root; n != nil; {
		if n.key.less(k) {
			n = n.right
		} else {
			best = n
			n = n.left
		}
	}
	return best
}

// after returns the node with the smallest key > k, or nil.
func (t *treap[V]) after(k u128) *tnode[V] {
	var best *tnode[V]
	for n := t.root; n != nil; {
		if k.less(n.key) {
			best = n
			n = n.left
		} else {
			n = n.right
		}
	}
	return best
}

// get returns the node with key k, or nil.
func (t *treap[V]) get(k u128) *tnode[V] {
	for n := t.root; n != nil; {
		switch k.cmp(n.key) {
		case -1:
			n = n.left
		case 1:
			n = n.right
		default:
			return n
		}
	}
	return nil
}

// insert adds k -> v; k must not be present.
func (t *treap[V]) insert(k u128, v V) {
	t.root = t.insertAt(t.root, &tnode[V]{key: k, val: v, prio: t.nextPrio()})
	t.size++
}

func (t *treap[V]) insertAt(n, nn *tnode[V]) *tnode[V] {
	if n == nil {
		return nn
	}
	if nn.key.less(n.key) {
		n.left = t.insertAt(n.left, nn)
		if n.left.prio > n.prio {
			l := n.left
			n.left, l.right = l.right, n
			return l
		}
		return n
	}
	n.right = t.insertAt(n.right, nn)
	if n.right.prio > n.prio {
		r := n.right
		n.right, r.left = r.left, n
		return r
	}
	return n
}

// delete removes k if present.
func (t *treap[V]) delete(k u128) {
	var removed bool
	t.root, removed = deleteAt(t.root, k)
	if removed {
		t.size--
	}
}

func deleteAt[V any](n *tnode[V], k u128) (*tnode[V], bool) {
	if n == nil {
		return nil, false
	}
	var removed bool
	switch k.cmp(n.key) {
	case -1:
		n.left, removed = deleteAt(n.left, k)
	case 1:
		n.right, removed = deleteAt(n.right, k)
	default:
		return merge(n.left, n.right), true
	}
	return n, removed
}

// merge joins two treaps whose keys are all ordered a < b.
func merge[V any](a, b *tnode[V]) *tnode[V] {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	case a.prio > b.prio:
		a.right = merge(a.right, b)
		return a
	}
	b.left = merge(a, b.left)
	return b
}
