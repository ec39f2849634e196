// Erlang's external term format (ETF), as Discord's gateway speaks it with
// encoding=etf: a minimal decoder for what a server sends and an encoder for what a
// client sends, written the way Discord's erlpack does it (strings as binaries, null as
// the atom nil, map keys as binaries).
//
// Decoding: atoms become strings except nil/null (null), true and false; binaries
// become UTF-8 strings; integers that do not fit a double exactly (snowflakes come as
// 64-bit integers over ETF) become decimal strings; maps become objects.
'use strict';

const zlib = require('node:zlib');

const VERSION = 131;
const T = {
    NEW_FLOAT: 70, COMPRESSED: 80, SMALL_INTEGER: 97, INTEGER: 98, FLOAT: 99, ATOM: 100,
    SMALL_TUPLE: 104, LARGE_TUPLE: 105, NIL: 106, STRING: 107, LIST: 108, BINARY: 109,
    SMALL_BIG: 110, LARGE_BIG: 111, SMALL_ATOM: 115, MAP: 116, ATOM_UTF8: 118, SMALL_ATOM_UTF8: 119,
};

function atom(name) {
    if (name === 'nil' || name === 'null') return null;
    if (name === 'true') return true;
    if (name === 'false') return false;
    return name;
}

function bigToValue(digits, negative) {
    let v = 0n;
    for (let i = digits.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(digits[i]);
    if (negative) v = -v;
    if (v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
    return v.toString();
}

// Decodes one ETF term (with its leading version byte) from buf.
function decode(buf) {
    let b = Buffer.from(buf);
    let o = 0;
    if (b[o++] !== VERSION) throw new Error(`ETF: bad version byte ${b[0]}`);
    if (b[o] === T.COMPRESSED) {
        const size = b.readUInt32BE(o + 1);
        b = zlib.inflateSync(b.subarray(o + 5));
        if (b.length !== size) throw new Error('ETF: compressed size mismatch');
        o = 0;
    }
    const term = () => {
        const tag = b[o++];
        switch (tag) {
        case T.SMALL_INTEGER: return b[o++];
        case T.INTEGER: { const v = b.readInt32BE(o); o += 4; return v; }
        case T.NEW_FLOAT: { const v = b.readDoubleBE(o); o += 8; return v; }
        case T.FLOAT: { const s = b.toString('latin1', o, o + 31); o += 31; return parseFloat(s); }
        case T.ATOM: case T.ATOM_UTF8: {
            const n = b.readUInt16BE(o); o += 2;
            const s = b.toString(tag === T.ATOM ? 'latin1' : 'utf8', o, o + n); o += n;
            return atom(s);
        }
        case T.SMALL_ATOM: case T.SMALL_ATOM_UTF8: {
            const n = b[o++];
            const s = b.toString(tag === T.SMALL_ATOM ? 'latin1' : 'utf8', o, o + n); o += n;
            return atom(s);
        }
        case T.SMALL_TUPLE: case T.LARGE_TUPLE: {
            let n;
            if (tag === T.SMALL_TUPLE) n = b[o++];
            else { n = b.readUInt32BE(o); o += 4; }
            const a = [];
            for (let i = 0; i < n; i++) a.push(term());
            return a;
        }
        case T.NIL: return [];
        case T.STRING: {
            const n = b.readUInt16BE(o); o += 2;
            const s = b.toString('latin1', o, o + n); o += n;
            return s;
        }
        case T.LIST: {
            const n = b.readUInt32BE(o); o += 4;
            const a = [];
            for (let i = 0; i < n; i++) a.push(term());
            const tail = term();
            if (!(Array.isArray(tail) && tail.length === 0)) a.push(tail); // improper list
            return a;
        }
        case T.BINARY: {
            const n = b.readUInt32BE(o); o += 4;
            const s = b.toString('utf8', o, o + n); o += n;
            return s;
        }
        case T.SMALL_BIG: case T.LARGE_BIG: {
            let n;
            if (tag === T.SMALL_BIG) n = b[o++];
            else { n = b.readUInt32BE(o); o += 4; }
            const sign = b[o++];
            const digits = b.subarray(o, o + n); o += n;
            return bigToValue(digits, sign !== 0);
        }
        case T.MAP: {
            const n = b.readUInt32BE(o); o += 4;
            const m = {};
            for (let i = 0; i < n; i++) {
                const k = term();
                m[String(k)] = term();
            }
            return m;
        }
        default:
            throw new Error(`ETF: unsupported tag ${tag} at offset ${o - 1}`);
        }
    };
    const v = term();
    if (o !== b.length) throw new Error(`ETF: ${b.length - o} trailing bytes`);
    return v;
}

// Encodes a JSON-like value as ETF (with the version byte).
function encode(value) {
    const parts = [Buffer.from([VERSION])];
    const put = (buf) => parts.push(buf);
    const u8 = (x) => put(Buffer.from([x]));
    const u32 = (x) => { const t = Buffer.alloc(4); t.writeUInt32BE(x); put(t); };
    const atomOut = (name) => { const s = Buffer.from(name, 'utf8'); u8(T.SMALL_ATOM_UTF8); u8(s.length); put(s); };
    const bin = (str) => { const s = Buffer.from(str, 'utf8'); u8(T.BINARY); u32(s.length); put(s); };
    const term = (v) => {
        if (v === null || v === undefined) return atomOut('nil');
        if (v === true) return atomOut('true');
        if (v === false) return atomOut('false');
        if (typeof v === 'string') return bin(v);
        if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
            const n = BigInt(v);
            if (n >= 0n && n < 256n) { u8(T.SMALL_INTEGER); u8(Number(n)); return undefined; }
            if (n >= -(2n ** 31n) && n < 2n ** 31n) {
                const t = Buffer.alloc(4); t.writeInt32BE(Number(n)); u8(T.INTEGER); put(t); return undefined;
            }
            let m = n < 0n ? -n : n;
            const digits = [];
            while (m > 0n) { digits.push(Number(m & 0xffn)); m >>= 8n; }
            u8(T.SMALL_BIG); u8(digits.length); u8(n < 0n ? 1 : 0); put(Buffer.from(digits));
            return undefined;
        }
        if (typeof v === 'number') {
            const t = Buffer.alloc(8); t.writeDoubleBE(v); u8(T.NEW_FLOAT); put(t); return undefined;
        }
        if (Array.isArray(v)) {
            if (v.length === 0) { u8(T.NIL); return undefined; }
            u8(T.LIST); u32(v.length);
            v.forEach(term);
            u8(T.NIL);
            return undefined;
        }
        if (typeof v === 'object') {
            const keys = Object.keys(v).filter((k) => v[k] !== undefined);
            u8(T.MAP); u32(keys.length);
            for (const k of keys) { bin(k); term(v[k]); }
            return undefined;
        }
        throw new Error(`ETF: cannot encode ${typeof v}`);
    };
    term(value);
    return Buffer.concat(parts);
}

module.exports = { decode, encode };
