use heapcaps_bench::contenders::*;
use heapcaps_bench::workloads::{self, REALLOC, MALLOC, FREE};
use heapcaps_bench::{Region, EMPTY, step};
fn run<C: Contender>(w: &str) {
    let t = workloads::generate(w, 20000);
    let len = workloads::region();
    let mut region = Region::new(len);
    let mut c = unsafe { C::new(region.base(), len) }.unwrap();
    let mut slots = vec![EMPTY; t.slots];
    let (mut moves, mut bytes, mut rel16, mut reallocs) = (0, 0usize, 0, 0);
    for op in &t.ops {
        let before = slots.get(op.slot as usize).map(|s| (s.p, s.size));
        step(&mut c, op, &mut slots);
        if op.kind == REALLOC {
            reallocs += 1;
            let (p, sz) = before.unwrap();
            let q = slots[op.slot as usize].p;
            if q != p { moves += 1; bytes += sz; if (q as usize - p as usize) % 16 != 0 { rel16 += 1; } }
        }
    }
    let _ = (MALLOC, FREE);
    println!("{w} {:12} reallocs {reallocs} moves {moves} bytes {bytes} misaligned16 {rel16}", C::NAME);
}
fn main() {
    for w in ["w6-two", "w6-one", "d", "w1"] {
        run::<Heapcaps>(w); run::<Talc>(w); run::<Rlsf>(w);
    }
}
