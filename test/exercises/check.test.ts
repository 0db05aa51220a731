// The checker: every registered exercise passes on a right answer and fails, with its own message, on each
// wrong one in references.ts (so no check is one that cannot fail); what check() prints and returns; the
// errors for an unknown id; and that a check leaves no tensor behind.

import * as assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { initBackend } from "../../src/backend/backend";
import { check, verdict } from "../../src/exercises/check";
import { exercise } from "../../src/exercises/exercise";
import { EXERCISES, exerciseIds, findExercise, type AnswerOf, type ExerciseId } from "../../src/exercises/registry";
import { OTHER_RIGHT_ANSWERS, REFERENCES, WRONG_ANSWERS, type WrongAnswer } from "./references";

/** Runs `f` with console.log and console.error captured. */
function captureConsole(f: () => void): { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...args: unknown[]) => out.push(args.join(" "));
  console.error = (...args: unknown[]) => err.push(args.join(" "));
  try {
    f();
  } finally {
    console.log = log;
    console.error = error;
  }
  return { out, err };
}

describe("exercises/check", () => {
  before(async () => {
    await initBackend();
  });

  it("registers ids NN.k, numbered 1, 2, … within each notebook, each with a title and a hint", () => {
    const ids = exerciseIds();
    assert.ok(ids.length >= 8, `${ids.length} exercises`);
    const byNotebook = new Map<string, number[]>();
    for (const id of ids) {
      assert.match(id, /^\d\d\.[1-9]\d*$/);
      const [notebook, k] = id.split(".");
      byNotebook.set(notebook, [...(byNotebook.get(notebook) ?? []), Number(k)]);
      const { title, hint } = findExercise(id);
      assert.ok(title.length > 5 && hint.length > 10, `${id} has a title and a hint`);
    }
    for (const [notebook, numbers] of byNotebook) {
      assert.deepEqual(
        numbers,
        Array.from(numbers, (_, i) => i + 1),
        `notebook ${notebook} numbers its exercises 1…n`,
      );
    }
    assert.deepEqual(exerciseIds("05"), ["05.1", "05.2", "05.3", "05.4", "05.5"]);
  });

  for (const id of exerciseIds() as ExerciseId[]) {
    describe(id, () => {
      it("passes on the reference answer and on other right answers", () => {
        const rights = [REFERENCES[id], ...((OTHER_RIGHT_ANSWERS[id] ?? []) as AnswerOf<typeof id>[])];
        for (const answer of rights) {
          const result = verdict(id, answer as never);
          assert.equal(result.message, `✔ ${id} passed: ${EXERCISES[id].title}`);
          assert.equal(result.passed, true);
        }
      });

      const wrongs = WRONG_ANSWERS[id] as WrongAnswer<typeof id>[];
      it("has wrong answers to fail on", () => assert.ok(wrongs.length >= 1));
      for (const wrong of wrongs) {
        it(`fails, saying what is wrong and a hint, on: ${wrong.what}`, () => {
          const result = verdict(id, wrong.answer as never);
          assert.equal(result.passed, false, `${wrong.what} passed`);
          assert.match(result.message, new RegExp(`^✘ ${id.replace(".", "\\.")}: .+ — hint: .+`));
          assert.match(result.message, wrong.message);
        });
      }

      it("leaves no tensor behind, right or wrong", () => {
        const before = tf.memory().numTensors;
        verdict(id, REFERENCES[id] as never);
        for (const wrong of WRONG_ANSWERS[id] as WrongAnswer<typeof id>[]) verdict(id, wrong.answer as never);
        assert.equal(tf.memory().numTensors, before);
      });
    });
  }

  it("check() prints the verdict (a failure on stderr) and returns whether it passed", () => {
    let passed: boolean | undefined;
    const right = captureConsole(() => (passed = check("05.2", REFERENCES["05.2"])));
    assert.equal(passed, true);
    assert.deepEqual(right, { out: ["✔ 05.2 passed: a softmax that does not overflow"], err: [] });
    const wrong = captureConsole(() => (passed = check("05.2", (scores: number[]) => scores)));
    assert.equal(passed, false);
    assert.deepEqual(wrong.out, []);
    assert.equal(wrong.err.length, 1);
    assert.match(wrong.err[0], /^✘ 05\.2: .* — hint: /);
  });

  it("never shows the expected answer itself in a message", () => {
    // The softmax of [1, 2, 3] is [0.090, 0.245, 0.665]: a failure names the learner's values, not these.
    const result = verdict("05.2", (scores: number[]) => scores.map(() => 1 / scores.length));
    assert.equal(result.passed, false);
    assert.doesNotMatch(result.message, /0\.09|0\.24|0\.66/);
  });

  it("an unknown id is an error that lists the notebook's exercises, or all of them", () => {
    assert.throws(
      () => verdict("05.9" as ExerciseId, null as never),
      /no exercise "05\.9"; notebook 05 has 05\.1, 05\.2, 05\.3, 05\.4, 05\.5/,
    );
    assert.throws(
      () => check("42.1" as ExerciseId, null as never),
      /no exercise "42\.1"; the registered ones are 00\.1, .*05\.5/,
    );
    assert.throws(() => verdict("toString" as ExerciseId, null as never), /no exercise "toString"/);
  });

  it("an answer of the wrong kind fails with what was expected", () => {
    const result = verdict("05.3", undefined as never);
    assert.equal(result.passed, false);
    assert.match(result.message, /expected a function \(p, j, width\) => P\[p, j\], got undefined/);
  });

  it("a bug in a check itself is thrown, not reported as the learner's failure", () => {
    const broken = exercise<number>({
      title: "broken",
      hint: "none",
      validate: () => {
        throw new TypeError("the check's own bug");
      },
    });
    const registry = EXERCISES as Record<string, unknown>;
    registry["99.1"] = broken;
    try {
      assert.throws(() => verdict("99.1" as ExerciseId, 1 as never), /the check's own bug/);
    } finally {
      delete registry["99.1"];
    }
  });
});
