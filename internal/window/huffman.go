package window

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// This file is the back half of the window compressor (window.go): it
// turns a block of LZ77 tokens into DEFLATE bits (RFC 1951 section 3.2),
// choosing for each block the smallest of dynamic Huffman codes, the fixed
// codes and stored bytes.

const (
	numLitCodes  = 286 // literal/length alphabet: 0..255, end of block, 257..285
	numDistCodes = 30
	numCLCodes   = 19 // code length alphabet
	endOfBlock   = 256
	maxCodeBits  = 15
	maxCLBits    = 7
)

// A token is a literal byte (< 256) or a match: tokMatch | (length-3)<<16
// | (distance-1).
type token uint32

const tokMatch token = 1 << 31

func matchToken(length, dist int) token {
	return tokMatch | token(length-3)<<16 | token(dist-1)
}

// Length and distance codes (RFC 1951 section 3.2.5).
var (
	encLenBase   = [29]uint16{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	encLenExtra  = [29]uint8{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	encDistBase  = [30]uint16{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	encDistExtra = [30]uint8{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	// clOrder is the order code length code lengths are sent in.
	clOrder = [numCLCodes]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

	encLenCode  [256]uint8 // length-3 → index into encLenBase
	encDistCode [512]uint8 // see distCodeOf

	encFixedLit  [numLitCodes]hcode
	encFixedDist [numDistCodes]hcode
)

func init() {
	for c := range 29 {
		for i := range 1 << encLenExtra[c] {
			encLenCode[int(encLenBase[c])-3+i] = uint8(c)
		}
	}
	for c := range 30 {
		lo, hi := int(encDistBase[c])-1, int(encDistBase[c])-1+1<<encDistExtra[c]
		for d := lo; d < hi; d++ {
			if d < 256 {
				encDistCode[d] = uint8(c)
			} else {
				encDistCode[256+d>>7] = uint8(c)
			}
		}
	}
	var lens [288]uint8
	for i := range lens {
		switch {
		case i < 144:
			lens[i] = 8
		case i < 256:
			lens[i] = 9
		case i < 280:
			lens[i] = 7
		default:
			lens[i] = 8
		}
	}
	var codes [288]hcode
	assignCodes(lens[:], codes[:])
	copy(encFixedLit[:], codes[:numLitCodes])
	for i := range lens[:numDistCodes] {
		lens[i] = 5
	}
	assignCodes(lens[:numDistCodes], encFixedDist[:])
}

// distCodeOf is the distance code of a distance-1 value d (0..32767).
func distCodeOf(d uint32) uint8 {
	if d < 256 {
		return encDistCode[d]
	}
	return encDistCode[256+d>>7]
}

// hcode is a Huffman code, bit-reversed for LSB-first output, and its
// length.
type hcode struct {
	code uint16
	len  uint8
}

// lenCounts counts the symbols of each code length, 0 to maxCodeBits.
type lenCounts [maxCodeBits + 1]uint16

// assignCodes gives each symbol with a length its canonical code (RFC
// 1951 section 3.2.2).
func assignCodes(lens []uint8, codes []hcode) {
	var count lenCounts
	for _, l := range lens {
		count[l]++
	}
	assignCounted(lens, codes, &count)
}

// assignCounted is assignCodes given how many symbols have each length.
func assignCounted(lens []uint8, codes []hcode, count *lenCounts) {
	count[0] = 0
	var next [maxCodeBits + 1]uint16
	code := uint16(0)
	for b := 1; b <= maxCodeBits; b++ {
		code = (code + count[b-1]) << 1
		next[b] = code
	}
	for s, l := range lens {
		if l == 0 {
			codes[s] = hcode{}
			continue
		}
		c := next[l]
		next[l]++
		codes[s] = hcode{code: bits.Reverse16(c) >> (16 - l), len: l}
	}
}

// huffBuilder builds length-limited Huffman codes. Its slices are scratch
// kept between uses.
type huffBuilder struct {
	leaves []uint32 // freq<<9 | symbol, sorted
	tmp    []uint32 // radix sort scratch
	weight []uint32
	parent []int32
	depth  []uint8
}

// buildLengths sets lens[s] to the code length of each symbol s for the
// frequencies freq, no code longer than maxBits, and returns how many
// symbols have each length. A lone symbol gets one bit; absent symbols
// get 0.
func (hb *huffBuilder) buildLengths(freq []uint32, maxBits int, lens []uint8) (lc lenCounts) {
	hb.leaves = hb.leaves[:0]
	var maxF uint32
	for s, f := range freq {
		lens[s] = 0
		if f > 0 {
			f = min(f, 1<<22)
			maxF = max(maxF, f)
			hb.leaves = append(hb.leaves, f<<9|uint32(s))
		}
	}
	n := len(hb.leaves)
	switch n {
	case 0:
		return lc
	case 1:
		lens[hb.leaves[0]&511] = 1
		lc[1] = 1
		return lc
	}
	if maxF < 1<<16 {
		hb.radixSort(maxF)
	} else {
		// Not reached from writeBlock, whose blocks end at wMaxTokens, so
		// that no count reaches 1<<16; tests give larger counts.
		slices.Sort(hb.leaves)
	}
	// Two-queue construction: leaves in order of weight, then internal
	// nodes, which are made in order of weight too. Nodes 0..n-1 are the
	// leaves, n..2n-2 the internal nodes; the root is last.
	total := 2*n - 1
	hb.weight = slices.Grow(hb.weight[:0], total)[:total]
	hb.parent = slices.Grow(hb.parent[:0], total)[:total]
	hb.depth = slices.Grow(hb.depth[:0], total)[:total]
	w, par := hb.weight, hb.parent
	for i, l := range hb.leaves {
		w[i] = l >> 9
	}
	li, ii := 0, n
	pick := func(next int) int {
		if li < n && (ii >= next || w[li] <= w[ii]) {
			li++
			return li - 1
		}
		ii++
		return ii - 1
	}
	for next := n; next < total; next++ {
		a := pick(next)
		b := pick(next)
		w[next] = w[a] + w[b]
		par[a], par[b] = int32(next), int32(next)
	}
	d := hb.depth
	d[total-1] = 0
	var count [32]int
	for i := total - 2; i >= 0; i-- {
		d[i] = d[par[i]] + 1
		if i < n {
			count[min(int(d[i]), 31)]++
		}
	}
	// Limit the lengths: clamp the deep leaves to maxBits, which
	// over-subscribes the code, then move leaves from shorter lengths down
	// a level, each move taking back one 2^-maxBits of the Kraft sum, until
	// the code is complete again.
	for b := maxBits + 1; b < len(count); b++ {
		count[maxBits] += count[b]
		count[b] = 0
	}
	kraft := 0
	for b := 1; b <= maxBits; b++ {
		kraft += count[b] << (maxBits - b)
	}
	for kraft > 1<<maxBits {
		b := maxBits - 1
		for count[b] == 0 {
			b--
		}
		count[b]--
		count[b+1] += 2
		count[maxBits]--
		kraft--
	}
	// The least frequent leaves take the longest codes.
	i := 0
	for b := maxBits; b >= 1; b-- {
		lc[b] = uint16(count[b])
		for range count[b] {
			lens[hb.leaves[i]&511] = uint8(b)
			i++
		}
	}
	return lc
}

// radixSort sorts the leaves by frequency, below 1<<16, a byte at a time;
// it is stable, so equal frequencies stay in symbol order, which is the
// order of the whole keys.
func (hb *huffBuilder) radixSort(maxF uint32) {
	src := hb.leaves
	hb.tmp = slices.Grow(hb.tmp[:0], len(src))[:len(src)]
	dst := hb.tmp
	for shift := uint(9); ; shift += 8 {
		var at [256]uint16 // leaves number at most numLitCodes
		for _, l := range src {
			at[byte(l>>shift)]++
		}
		sum := uint16(0)
		for i, c := range at {
			at[i] = sum
			sum += c
		}
		for _, l := range src {
			k := byte(l >> shift)
			dst[at[k]] = l
			at[k]++
		}
		src, dst = dst, src
		if maxF>>(shift-1) == 0 {
			break
		}
	}
	if &src[0] != &hb.leaves[0] {
		copy(hb.leaves, src)
	}
}

// bitBuf appends bits LSB first to out.
type bitBuf struct {
	out   []byte
	bits  uint64
	nbits uint
}

// writeBits writes the low n bits of b, n at most 32.
func (w *bitBuf) writeBits(b uint64, n uint) {
	w.bits |= b << w.nbits
	w.nbits += n
	if w.nbits >= 32 {
		w.out = binary.LittleEndian.AppendUint32(w.out, uint32(w.bits))
		w.bits >>= 32
		w.nbits -= 32
	}
}

func (w *bitBuf) writeCode(c hcode) { w.writeBits(uint64(c.code), uint(c.len)) }

// align writes out the bits held, padding the last byte with zeros.
func (w *bitBuf) align() {
	for w.nbits > 0 {
		w.out = append(w.out, byte(w.bits))
		w.bits >>= 8
		w.nbits -= min(w.nbits, 8)
	}
	w.bits = 0
}

// blockCoder holds what encoding a block needs: the tokens, their
// frequencies and the codes. It is scratch, pooled between messages.
type blockCoder struct {
	toks     []token
	litFreq  [numLitCodes]uint32
	distFreq [numDistCodes]uint32
	litLen   [numLitCodes]uint8
	distLen  [numDistCodes]uint8
	litCode  [numLitCodes]hcode
	distCode [numDistCodes]hcode
	cl       []uint8 // the code lengths, run-length coded: a code length code symbol each
	clx      []uint8 // the extra bits value of each cl entry
	clFreq   [numCLCodes]uint32
	clLen    [numCLCodes]uint8
	clCode   [numCLCodes]hcode
	hb       huffBuilder
	bw       bitBuf // its out is kept, emptied, between messages
}

func (bc *blockCoder) literal(b byte) {
	bc.toks = append(bc.toks, token(b))
	bc.litFreq[b]++
}

func (bc *blockCoder) match(length, dist int) {
	bc.toks = append(bc.toks, matchToken(length, dist))
	bc.litFreq[257+int(encLenCode[length-3])]++
	bc.distFreq[distCodeOf(uint32(dist-1))]++
}

// extraBits is the number of length and distance extra bits the block's
// tokens need.
func (bc *blockCoder) extraBits() int {
	n := 0
	for c := 265; c < 285; c++ {
		n += int(bc.litFreq[c]) * int(encLenExtra[c-257])
	}
	for c := 4; c < numDistCodes; c++ {
		n += int(bc.distFreq[c]) * int(encDistExtra[c])
	}
	return n
}

// writeBlock writes the tokens as one non-final block, in whichever form
// is smallest; raw is the input they encode, for a stored block. It
// leaves the coder empty for the next block.
func (bc *blockCoder) writeBlock(raw []byte) {
	if len(bc.toks) == 0 {
		return
	}
	bc.litFreq[endOfBlock]++
	if bc.distFreq == [numDistCodes]uint32{} {
		// A code with no distances is valid, but some decoders want one.
		bc.distFreq[0] = 1
	}
	litCount := bc.hb.buildLengths(bc.litFreq[:], maxCodeBits, bc.litLen[:])
	distCount := bc.hb.buildLengths(bc.distFreq[:], maxCodeBits, bc.distLen[:])
	nlit := numLitCodes
	for nlit > 257 && bc.litLen[nlit-1] == 0 {
		nlit--
	}
	ndist := numDistCodes
	for ndist > 1 && bc.distLen[ndist-1] == 0 {
		ndist--
	}
	bc.runLengths(nlit, ndist)
	clCount := bc.hb.buildLengths(bc.clFreq[:], maxCLBits, bc.clLen[:])
	nclen := numCLCodes
	for nclen > 4 && bc.clLen[clOrder[nclen-1]] == 0 {
		nclen--
	}

	extra := bc.extraBits()
	dynSize := 3 + 5 + 5 + 4 + 3*nclen + extra
	for s, f := range bc.clFreq {
		dynSize += int(f) * int(bc.clLen[s])
	}
	dynSize += 2*int(bc.clFreq[16]) + 3*int(bc.clFreq[17]) + 7*int(bc.clFreq[18])
	fixSize := 3 + extra
	for s, f := range bc.litFreq {
		dynSize += int(f) * int(bc.litLen[s])
		fixSize += int(f) * int(encFixedLit[s].len)
	}
	for s, f := range bc.distFreq {
		dynSize += int(f) * int(bc.distLen[s])
		fixSize += int(f) * 5
	}
	// A stored block: its 3 header bits, padding to a byte (at most 7
	// more), then 4 bytes of length per 65,535 bytes.
	storedSize := (3+7+32)*((len(raw)+65534)/65535) + 8*len(raw)

	w := &bc.bw
	switch {
	case storedSize < min(dynSize, fixSize):
		for len(raw) > 0 {
			n := min(len(raw), 65535)
			w.writeBits(0, 3) // BFINAL 0, BTYPE 00
			w.align()
			w.out = binary.LittleEndian.AppendUint16(w.out, uint16(n))
			w.out = binary.LittleEndian.AppendUint16(w.out, ^uint16(n))
			w.out = append(w.out, raw[:n]...)
			raw = raw[n:]
		}
	case fixSize <= dynSize:
		w.writeBits(1<<1, 3) // BFINAL 0, BTYPE 01
		bc.writeTokens(&encFixedLit, &encFixedDist)
	default:
		w.writeBits(2<<1, 3) // BFINAL 0, BTYPE 10
		w.writeBits(uint64(nlit-257), 5)
		w.writeBits(uint64(ndist-1), 5)
		w.writeBits(uint64(nclen-4), 4)
		for _, s := range clOrder[:nclen] {
			w.writeBits(uint64(bc.clLen[s]), 3)
		}
		assignCounted(bc.clLen[:], bc.clCode[:], &clCount)
		for i, s := range bc.cl {
			w.writeCode(bc.clCode[s])
			switch s {
			case 16:
				w.writeBits(uint64(bc.clx[i]), 2)
			case 17:
				w.writeBits(uint64(bc.clx[i]), 3)
			case 18:
				w.writeBits(uint64(bc.clx[i]), 7)
			}
		}
		assignCounted(bc.litLen[:], bc.litCode[:], &litCount)
		assignCounted(bc.distLen[:], bc.distCode[:], &distCount)
		bc.writeTokens(&bc.litCode, &bc.distCode)
	}
	bc.toks = bc.toks[:0]
	bc.litFreq = [numLitCodes]uint32{}
	bc.distFreq = [numDistCodes]uint32{}
}

// writeTokens writes the block's tokens and its end with the codes given.
func (bc *blockCoder) writeTokens(lit *[numLitCodes]hcode, dist *[numDistCodes]hcode) {
	w := &bc.bw
	for _, t := range bc.toks {
		if t < 256 {
			c := lit[t]
			w.writeBits(uint64(c.code), uint(c.len))
			continue
		}
		l := uint32(t>>16) & 0xff
		lc := encLenCode[l]
		c := lit[257+int(lc)]
		eb := uint(encLenExtra[lc])
		w.writeBits(uint64(c.code)|uint64(l+3-uint32(encLenBase[lc]))<<c.len, uint(c.len)+eb)
		d := uint32(t) & 0xffff
		dc := distCodeOf(d)
		c = dist[dc]
		eb = uint(encDistExtra[dc])
		w.writeBits(uint64(c.code)|uint64(d+1-uint32(encDistBase[dc]))<<c.len, uint(c.len)+eb)
	}
	w.writeCode(lit[endOfBlock])
}

// runLengths run-length codes the code lengths of the first nlit literal
// and ndist distance codes (RFC 1951 section 3.2.7) into bc.cl and
// bc.clx, and counts the symbols in bc.clFreq.
func (bc *blockCoder) runLengths(nlit, ndist int) {
	bc.cl, bc.clx = bc.cl[:0], bc.clx[:0]
	bc.clFreq = [numCLCodes]uint32{}
	emit := func(s, x uint8) {
		bc.cl = append(bc.cl, s)
		bc.clx = append(bc.clx, x)
		bc.clFreq[s]++
	}
	// The two sequences form one (section 3.2.7), so runs may span them.
	at := func(i int) uint8 {
		if i < nlit {
			return bc.litLen[i]
		}
		return bc.distLen[i-nlit]
	}
	n := nlit + ndist
	for i := 0; i < n; {
		l := at(i)
		run := 1
		for i+run < n && at(i+run) == l {
			run++
		}
		i += run
		if l == 0 {
			for run >= 11 {
				k := min(run, 138)
				emit(18, uint8(k-11))
				run -= k
			}
			if run >= 3 {
				emit(17, uint8(run-3))
				run = 0
			}
			for ; run > 0; run-- {
				emit(0, 0)
			}
			continue
		}
		emit(l, 0)
		run--
		for run >= 3 {
			k := min(run, 6)
			emit(16, uint8(k-3))
			run -= k
		}
		for ; run > 0; run-- {
			emit(l, 0)
		}
	}
}
