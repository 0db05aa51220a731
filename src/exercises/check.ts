// check(id, answer): what a notebook's check cell calls. It runs the exercise's check on the answer and
// prints one line, "✔ 05.2 passed: …" or "✘ 05.2: what is wrong — hint: where to look", and returns
// whether it passed, so that the notebook's results line can say which exercises pass. A wrong answer is
// never an exception (the notebook runs on to its results); an unknown id is.

import { AnswerError, Problem } from "./exercise";
import { AnswerOf, ExerciseId, findExercise } from "./registry";

export interface CheckResult {
  id: string;
  passed: boolean;
  /** The line `check` prints. */
  message: string;
}

/** The verdict on `answer`, without printing: what `check` prints, and what tests assert on. */
export function verdict<Id extends ExerciseId>(id: Id, answer: AnswerOf<Id>): CheckResult {
  const found = findExercise(id);
  let problem: Problem | null;
  try {
    problem = found.validate(answer);
  } catch (error) {
    // The reading helpers throw AnswerError for an answer of the wrong kind; anything else is a bug in
    // the check itself, which must not pass for a failure of the learner.
    if (!(error instanceof AnswerError)) throw error;
    problem = error.hint === undefined ? error.problem : { problem: error.problem, hint: error.hint };
  }
  if (problem === null) return { id, passed: true, message: `✔ ${id} passed: ${found.title}` };
  const [what, hint] = typeof problem === "string" ? [problem, found.hint] : [problem.problem, problem.hint];
  return { id, passed: false, message: `✘ ${id}: ${what} — hint: ${hint}` };
}

/** Checks the answer of exercise `id`, prints the verdict and returns true when it passed. */
export function check<Id extends ExerciseId>(id: Id, answer: AnswerOf<Id>): boolean {
  const result = verdict(id, answer);
  (result.passed ? console.log : console.error)(result.message);
  return result.passed;
}
