// The one registry of exercises: every notebook's checks, keyed by id ("05.2" = notebook 05, exercise 2).
// A notebook's exercises live in their own file (nb05.ts); adding a notebook adds one line here.

import type { Exercise } from "./exercise";
import { NB00_EXERCISES } from "./nb00";
import { NB01_EXERCISES } from "./nb01";
import { NB02_EXERCISES } from "./nb02";
import { NB03_EXERCISES } from "./nb03";
import { NB04_EXERCISES } from "./nb04";
import { NB05_EXERCISES } from "./nb05";
import { NB06_EXERCISES } from "./nb06";
import { NB07_EXERCISES } from "./nb07";
import { NB08_EXERCISES } from "./nb08";

export const EXERCISES = {
  ...NB00_EXERCISES,
  ...NB01_EXERCISES,
  ...NB02_EXERCISES,
  ...NB03_EXERCISES,
  ...NB04_EXERCISES,
  ...NB05_EXERCISES,
  ...NB06_EXERCISES,
  ...NB07_EXERCISES,
  ...NB08_EXERCISES,
};

/** Every registered id, as a type: `check("05.9", …)` is a compile error in the notebook too. */
export type ExerciseId = keyof typeof EXERCISES;

/** What `check(id, answer)` expects as the answer of exercise `id`. */
export type AnswerOf<Id extends ExerciseId> = (typeof EXERCISES)[Id] extends Exercise<infer Answer> ? Answer : never;

/** The registered ids, in order; of one notebook ("05") when given. */
export function exerciseIds(notebook?: string): string[] {
  return Object.keys(EXERCISES)
    .filter((id) => notebook === undefined || id.split(".")[0] === notebook)
    .sort((a, b) => {
      const [na, ea] = a.split(".").map(Number);
      const [nb, eb] = b.split(".").map(Number);
      return na - nb || ea - eb;
    });
}

/** The exercise registered as `id`, or an error that lists what is registered. */
export function findExercise(id: string): Exercise<unknown> {
  const found = (EXERCISES as Record<string, Exercise<never>>)[id];
  if (found === undefined || !Object.prototype.hasOwnProperty.call(EXERCISES, id)) {
    const notebook = typeof id === "string" ? id.split(".")[0] : "";
    const sameNotebook = exerciseIds(notebook);
    const known = sameNotebook.length > 0 ? sameNotebook : exerciseIds();
    throw new Error(
      `check: there is no exercise ${JSON.stringify(id)}; ` +
        `${sameNotebook.length > 0 ? `notebook ${notebook} has` : "the registered ones are"} ${known.join(", ")}`,
    );
  }
  return found as Exercise<unknown>;
}
