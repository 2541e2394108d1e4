"""Book sections a question may belong to.

Numbers follow Chip Huyen's "Introduction to Machine Learning Interviews". Chapter 9 is ours:
the book predates large language models and has no numbered systems-design chapter, so 9.x
extends its numbering for those topics.
"""

SECTIONS: dict[str, str] = {
    "2.3.1.1": "Behavioral: background and resume",
    "2.3.1.2": "Behavioral: interests",
    "2.3.1.3": "Behavioral: communication",
    "2.3.1.4": "Behavioral: personality",
    "2.3.2": "Questions to ask your interviewers",
    "5.1.1": "Vectors",
    "5.1.2": "Matrices",
    "5.1.3": "Dimensionality reduction",
    "5.1.4": "Calculus and convex optimization",
    "5.2.1": "Probability",
    "5.2.2": "Statistics",
    "6.1": "Algorithms",
    "6.2": "Complexity and numerical analysis",
    "6.3": "Data",
    "7.1": "ML basics",
    "7.2": "Sampling and creating training data",
    "7.3": "Objective functions, metrics and evaluation",
    "8.1": "Classical machine learning",
    "8.2.1": "Natural language processing",
    "8.2.2": "Computer vision",
    "8.2.3": "Reinforcement learning",
    "8.2.4": "Autoencoders, attention, transfer learning, Bayesian nets, GANs",
    "8.3": "Training neural networks",
    "9.1": "Transformers and large language models",
    "9.2": "ML in production",
    "9.3": "ML systems design",
}

BEHAVIORAL_GROUPS: dict[str, str] = {
    "background": "2.3.1.1",
    "interests": "2.3.1.2",
    "communication": "2.3.1.3",
    "personality": "2.3.1.4",
}


def section_title(section: str) -> str:
    return f"{section} {SECTIONS.get(section, '')}".strip()
