export * from "./gen";
